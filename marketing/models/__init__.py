"""Tables, one module per aggregate. Importing this registers every model on the metadata."""

from marketing.models.ads import Product, SpAdGroup, SpCampaign, SpProductAd, SpTarget
from marketing.models.audit import AuditEvent
from marketing.models.base import Base
from marketing.models.bid_history import BidHistory, BidSource
from marketing.models.campaign_settings import CampaignSettings
from marketing.models.connections import (
    API_LABELS,
    APIS,
    AdsProfile,
    AppAlert,
    Connection,
    ConnectionEvent,
    Notice,
    data_changed,
    profile_sellers,
)
from marketing.models.email import EmailAlertMark, EmailPreference, EmailSellerWeek, EmailSend
from marketing.models.facts import (
    SalesTrafficAsinDaily,
    SalesTrafficDaily,
    SpCampaignDaily,
    SpProductDaily,
    SpSearchTermDaily,
    SpTargetDaily,
    SpTargetWeekly,
)
from marketing.models.promotions import (
    HistoryPull,
    InventoryDaily,
    PlanState,
    Promotion,
    PromotionAsin,
    PromotionFee,
    PromotionPlan,
    PromotionType,
    SalesTrafficAsinWeekly,
)
from marketing.models.rollups import ProfileDaily
from marketing.models.sellers import REGIONS, Seller
from marketing.models.settings import SettingValue
from marketing.models.suggestions import Suggestion, SuggestionRun
from marketing.models.sync import SyncReport, SyncRun
from marketing.models.users import ROLES, PasswordResetToken, User, user_sellers

__all__ = [
    "API_LABELS",
    "APIS",
    "AdsProfile",
    "AppAlert",
    "Connection",
    "ConnectionEvent",
    "Notice",
    "REGIONS",
    "ROLES",
    "AuditEvent",
    "EmailAlertMark",
    "EmailPreference",
    "EmailSellerWeek",
    "EmailSend",
    "Base",
    "BidHistory",
    "BidSource",
    "CampaignSettings",
    "PasswordResetToken",
    "HistoryPull",
    "InventoryDaily",
    "PlanState",
    "Product",
    "Promotion",
    "PromotionAsin",
    "PromotionFee",
    "PromotionPlan",
    "PromotionType",
    "ProfileDaily",
    "SalesTrafficAsinDaily",
    "SalesTrafficDaily",
    "SalesTrafficAsinWeekly",
    "SpAdGroup",
    "SpCampaign",
    "SpCampaignDaily",
    "SpProductAd",
    "SpProductDaily",
    "SpSearchTermDaily",
    "SpTarget",
    "SpTargetDaily",
    "SpTargetWeekly",
    "SyncReport",
    "SyncRun",
    "Seller",
    "SettingValue",
    "Suggestion",
    "SuggestionRun",
    "User",
    "data_changed",
    "profile_sellers",
    "user_sellers",
]
