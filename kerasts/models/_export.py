"""`keras.Model.export` with a model's real input dtypes."""


class SignatureExportMixin:
    """Put before `keras.Model` in the bases of a model with a `serving_signature()` method.

    Keras infers float32 for every exported input, which breaks string ids and rounds int64
    timestamps; this passes the model's own TensorSpecs instead.
    """

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        if input_signature is None:
            input_signature = [self.serving_signature()]
        return super().export(filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)
