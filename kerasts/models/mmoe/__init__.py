from kerasts.models.mmoe.mmoe import MMoE
from kerasts.models.mmoe.shared_bottom import SharedBottom

__all__ = ["MMoE", "SharedBottom"]
