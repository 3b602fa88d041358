import tensorflow_probability as tfp

from kerasts.likelihoods.base import Likelihood, positive

tfd = tfp.distributions


class StudentT(Likelihood):
    """Student-t likelihood for heavy-tailed real targets: `loc`, `scale`, `df`.

    `df` is kept above 2 (as GluonTS does) so that the variance exists.
    """

    name = "student_t"
    parameter_names = ("loc", "scale", "df")

    def _domain_map(self, raw):
        return {"loc": raw["loc"], "scale": positive(raw["scale"]), "df": 2.0 + positive(raw["df"])}

    def _scale(self, parameters, target_scale):
        return {
            "loc": parameters["loc"] * target_scale,
            "scale": parameters["scale"] * target_scale,
            "df": parameters["df"],
        }

    def _distribution(self, loc, scale, df):
        return tfd.StudentT(df=df, loc=loc, scale=scale)
