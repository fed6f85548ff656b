"""Why a bid moves (or doesn't): one code per suggestion, stored with it and shown to the marketer."""

from enum import StrEnum


class Reason(StrEnum):
    RAISE_PROFITABLE = "RAISE_PROFITABLE"  # a click is worth more than the bid at the target ACoS
    LOWER_UNPROFITABLE = "LOWER_UNPROFITABLE"  # converts, but not enough for the bid at the target ACoS
    LOWER_NO_ORDERS = "LOWER_NO_ORDERS"  # no orders, and even the optimistic CVR can't pay for the bid
    RAISE_VISIBILITY = "RAISE_VISIBILITY"  # too few impressions to learn anything
    CLAMPED_MIN = "CLAMPED_MIN"  # current bid is below the allowed floor
    CLAMPED_MAX = "CLAMPED_MAX"  # current bid is above the allowed ceiling
    HOLD_COOLDOWN = "HOLD_COOLDOWN"  # changed too recently to judge the last change
    HOLD_DEAD_BAND = "HOLD_DEAD_BAND"  # the change would be too small to matter
    HOLD_PROFITABLE = "HOLD_PROFITABLE"  # the model would lower, but observed ACoS already meets target
    HOLD_LEARNING = "HOLD_LEARNING"  # no orders yet, not enough clicks to call it unprofitable
    HOLD_NO_VALUE = "HOLD_NO_VALUE"  # no order value anywhere (no orders up the hierarchy, no price)
    LOWER_BUDGET_BOUND = "LOWER_BUDGET_BOUND"  # the campaign runs out of budget: cheaper clicks, more of the day
    HOLD_BUDGET_BOUND = "HOLD_BUDGET_BOUND"  # would raise, but the campaign runs out of budget: a raise buys nothing
    HOLD_BUDGET_ROOM = "HOLD_BUDGET_ROOM"  # would raise, but that would run the campaign out of its budget
    BACK_OFF = "BACK_OFF"  # the last change, measured, did not pay: step back toward the bid before it
    HOLD_SAME_STEP = "HOLD_SAME_STEP"  # would step the same way again before the last step's effect shows

    @property
    def is_hold(self) -> bool:
        return self.startswith("HOLD_")


REASONS = tuple(Reason)  # position = the small integer code the engine works with
