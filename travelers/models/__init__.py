from .genealogy import Consumption
from .orders import Item, WorkOrder
from .quality import Nonconformance
from .records import Attachment, Measurement
from .travelers import Hold, Traveler, TravelerCharacteristic, TravelerReplan, TravelerStep

__all__ = [
    "Attachment",
    "Consumption",
    "Hold",
    "Item",
    "Measurement",
    "Nonconformance",
    "Traveler",
    "TravelerCharacteristic",
    "TravelerReplan",
    "TravelerStep",
    "WorkOrder",
]
