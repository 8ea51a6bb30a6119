from .genealogy import Consumption
from .orders import Item, NumberingRule, WorkOrder
from .quality import Nonconformance
from .records import Attachment, Measurement
from .travelers import Hold, Traveler, TravelerCharacteristic, TravelerReplan, TravelerStep, WorkCenterOverride

__all__ = [
    "Attachment",
    "Consumption",
    "Hold",
    "Item",
    "Measurement",
    "Nonconformance",
    "NumberingRule",
    "Traveler",
    "TravelerCharacteristic",
    "TravelerReplan",
    "TravelerStep",
    "WorkCenterOverride",
    "WorkOrder",
]
