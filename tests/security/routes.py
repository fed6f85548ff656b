"""The declared table of every route: who may use it, what its ids are, what an allowed request answers, and
which query parameters a GET page reads. tests/security/test_route_matrix.py checks the app against it; a route
that is not in it fails that test, so a new route is added here, with its rule, on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketing import create_app
from marketing.config import Settings
from marketing.web.vendor import PLOTLY_VERSION

PUBLIC = "public"  # no login
LOGIN = "login"  # any logged-in user, nothing seller-specific
VIEW, EXPORT = "view", "export"
MANAGE_CONNECTIONS, SYNC, SELLER_SETTINGS = "manage_connections", "sync", "seller_settings"
ACT_ON_SUGGESTIONS, ADMINISTER = "act_on_suggestions", "administer"

# Written out here rather than read from marketing.security.permissions: this is what the README promises.
ALLOWED = {
    VIEW: {"admin", "marketer", "viewer"},
    EXPORT: {"admin", "marketer", "viewer"},
    MANAGE_CONNECTIONS: {"admin", "marketer"},
    SYNC: {"admin", "marketer"},
    SELLER_SETTINGS: {"admin", "marketer"},
    ACT_ON_SUGGESTIONS: {"admin", "marketer"},
    ADMINISTER: {"admin"},
    LOGIN: {"admin", "marketer", "viewer"},
}

PERIOD = ("range", "from", "to")
LISTING = ("sort", "dir", "page", "state", "q", "format")


@dataclass(frozen=True)
class Route:
    access: str
    ok: int | tuple[int, ...] = 200  # what an allowed request on its own ids answers
    params: tuple[str, ...] = ()  # query parameters a GET page reads (fuzzed)
    cross: int = 404  # the seller's own id with another seller's campaign/target/suggestion id in the URL
    logged_in: int | None = None  # public routes that answer differently once logged in
    malformed: int = 404  # a malformed id; a signed token that does not verify is a bad request instead


TABLE: dict[tuple[str, str], Route] = {
    # public
    ("auth.login", "GET"): Route(PUBLIC, params=("next",), logged_in=302),
    ("auth.login", "POST"): Route(PUBLIC, ok=401, logged_in=302),
    ("auth.reset_password", "GET"): Route(PUBLIC, ok=404),  # an unknown token
    ("auth.reset_password", "POST"): Route(PUBLIC, ok=404),
    ("health.healthz", "GET"): Route(PUBLIC),
    ("mail.unsubscribe", "GET"): Route(PUBLIC, ok=400, malformed=400),  # a link that is not ours
    ("mail.unsubscribe", "POST"): Route(PUBLIC, ok=400, malformed=400),
    ("static", "GET"): Route(PUBLIC),
    ("vendor.plotly_js", "GET"): Route(PUBLIC),
    # any logged-in user
    ("sellers.overview", "GET"): Route(LOGIN, params=(*PERIOD, "page", "format")),
    ("auth.account", "GET"): Route(LOGIN),
    ("auth.change_password", "GET"): Route(LOGIN),
    ("auth.change_password", "POST"): Route(LOGIN, ok=400),  # an empty form
    ("connections.notices", "GET"): Route(LOGIN),
    ("connections.mark_read", "POST"): Route(LOGIN, ok=302),
    ("connections.callback", "GET"): Route(LOGIN, ok=303, params=("state", "code", "error", "spapi_oauth_code",
                                                                  "selling_partner_id")),
    ("sellers.malformed", "GET"): Route(LOGIN, ok=404),
    ("mail.preferences", "GET"): Route(LOGIN),
    ("mail.preview", "GET"): Route(LOGIN, params=("week", "part")),
    # one seller's pages
    ("sellers.show", "GET"): Route(VIEW, params=("profile", *PERIOD, *LISTING)),
    ("dashboard.campaign", "GET"): Route(VIEW, params=("profile", *PERIOD, *LISTING, "table")),
    ("dashboard.target", "GET"): Route(VIEW, params=("profile", *PERIOD, "format", "table")),
    ("dashboard.search_terms", "GET"): Route(VIEW, params=("profile", "campaign", *PERIOD, *LISTING)),
    ("dashboard.daily_csv", "GET"): Route(EXPORT, params=("level", "profile", *PERIOD)),
    ("suggestions.index", "GET"): Route(VIEW, params=("status", "campaign", "reason", "direction", "min_change",
                                                      "sort")),
    ("products.index", "GET"): Route(VIEW, params=("margin", "format")),
    ("promotions.index", "GET"): Route(VIEW, params=("sort", "dir", "asin", "format")),
    ("promotions.plan", "GET"): Route(VIEW, params=("format",)),
    ("sync.status", "GET"): Route(VIEW),
    ("connections.history", "GET"): Route(VIEW),
    ("connections.paste", "GET"): Route(MANAGE_CONNECTIONS),
    ("connections.profiles", "GET"): Route(MANAGE_CONNECTIONS),
    ("connections.disconnect", "GET"): Route(MANAGE_CONNECTIONS),
    ("sellers.delete", "GET"): Route(ADMINISTER),
    # admin pages
    ("sellers.create", "GET"): Route(ADMINISTER),
    ("admin.users", "GET"): Route(ADMINISTER),
    ("admin.user", "GET"): Route(ADMINISTER),
    ("admin.audit_log", "GET"): Route(ADMINISTER, params=("action", "page")),
    ("admin.app_settings", "GET"): Route(ADMINISTER),
    ("admin.job_health", "GET"): Route(ADMINISTER),
    ("promotions.fee_table", "GET"): Route(ADMINISTER),
    ("mail.admin_index", "GET"): Route(ADMINISTER),
    ("mail.admin_outbox", "GET"): Route(ADMINISTER),
    ("mail.admin_outbox_message", "GET"): Route(ADMINISTER, ok=404, params=("part",)),  # no such message
    # state changes (empty forms: an allowed request is refused as bad input, or does its harmless thing)
    ("dashboard.campaign_settings", "POST"): Route(SELLER_SETTINGS, ok=303),
    ("products.save_costs", "POST"): Route(SELLER_SETTINGS, ok=(303, 400)),
    ("products.import_costs", "POST"): Route(SELLER_SETTINGS, ok=400),
    ("products.set_target_acos", "POST"): Route(SELLER_SETTINGS, ok=(303, 400)),
    ("suggestions.save_settings", "POST"): Route(SELLER_SETTINGS, ok=(303, 400)),
    ("suggestions.decide", "POST"): Route(ACT_ON_SUGGESTIONS, ok=400),
    ("suggestions.send", "POST"): Route(ACT_ON_SUGGESTIONS, ok=303),
    ("suggestions.run", "POST"): Route(ACT_ON_SUGGESTIONS, ok=303),
    ("promotions.run", "POST"): Route(ACT_ON_SUGGESTIONS, ok=303),
    # the world's own suggestion is a bid suggestion: not one of the promotion routes'
    ("promotions.approve", "POST"): Route(ACT_ON_SUGGESTIONS, ok=404),
    ("promotions.reject", "POST"): Route(ACT_ON_SUGGESTIONS, ok=404),
    # the first allowed request marks the plan entered (or cancels it); the next is told it already was
    ("promotions.entered", "POST"): Route(ACT_ON_SUGGESTIONS, ok=(303, 400)),
    ("promotions.cancel", "POST"): Route(ACT_ON_SUGGESTIONS, ok=(303, 400)),
    ("promotions.fee_table", "POST"): Route(ADMINISTER, ok=400),  # an empty form
    # another seller's suggestion id: "does not exist (any more)", shown on the seller's own page
    ("suggestions.undo", "POST"): Route(ACT_ON_SUGGESTIONS, ok=303, cross=303),
    ("sync.sync_now", "POST"): Route(SYNC, ok=302),
    ("connections.authorize", "POST"): Route(MANAGE_CONNECTIONS, ok=302),  # not configured: back to the seller
    ("connections.paste", "POST"): Route(MANAGE_CONNECTIONS, ok=400),
    ("connections.profiles", "POST"): Route(MANAGE_CONNECTIONS, ok=302),
    ("connections.check", "POST"): Route(MANAGE_CONNECTIONS, ok=302),
    ("sellers.create", "POST"): Route(ADMINISTER, ok=400),
    ("admin.create_user", "POST"): Route(ADMINISTER, ok=400),
    ("admin.update_user", "POST"): Route(ADMINISTER, ok=400),
    ("admin.set_active", "POST"): Route(ADMINISTER, ok=302),
    ("admin.reset_link", "POST"): Route(ADMINISTER, ok=302),
    ("admin.app_settings", "POST"): Route(ADMINISTER, ok=(302, 400)),
    ("admin.retry_job", "POST"): Route(ADMINISTER, ok=404),  # no such job
    ("sellers.delete", "POST"): Route(ADMINISTER, ok=400),  # the name was not typed
    ("mail.preferences", "POST"): Route(LOGIN, ok=400),
    ("mail.admin_reset", "POST"): Route(ADMINISTER, ok=302),
    ("mail.admin_send", "POST"): Route(ADMINISTER, ok=302),
    # last: these end what later requests would use
    ("connections.disconnect", "POST"): Route(MANAGE_CONNECTIONS, ok=302),
    ("connections.replace_account", "POST"): Route(MANAGE_CONNECTIONS, ok=302),  # no held authorization: back
    ("auth.logout", "POST"): Route(LOGIN, ok=302),
}

def _rules() -> dict:
    """(endpoint, method) -> URL rule, from an app built without any service behind it."""
    app = create_app({"INSTANCE_PATH": "/nonexistent", "TOKEN_ENCRYPTION_KEYS": ("unused",)},
                     settings=Settings(env="test", secret_key="x", database_url="sqlite://"))
    return {(rule.endpoint, method): rule for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


RULES = _rules()


def variants(rule) -> tuple[str, ...]:
    """Which id variants a rule has: malformed ids if it has any, foreign if it names a seller, cross if it also
    names something below the seller; every rule has its own ids."""
    args = rule.arguments
    found = ["malformed"] if args else []
    if "seller_id" in args:
        found.append("foreign")
        if args & {"campaign_id", "target_id", "suggestion_id", "plan_id"}:
            found.append("cross")
    return (*found, "own")


def path_values(world, rule, variant: str) -> dict:
    """URL values for `rule`: the own seller's ids, the foreign seller's, the own seller with the foreign
    seller's sub-ids ("cross"), or malformed ids; None when the rule has no such variant."""
    own, foreign = world.own, world.foreign
    side = foreign if variant == "foreign" else own
    sub = foreign if variant == "cross" else side
    values = {}
    for name in rule.arguments:
        malformed = variant == "malformed"
        if name == "seller_id":
            values[name] = 10**20 if malformed else side.seller
        elif name in ("campaign_id", "target_id", "suggestion_id", "plan_id"):
            values[name] = ("x1" if name not in ("suggestion_id", "plan_id") else 10**20) if malformed else \
                getattr(sub, name.removesuffix("_id"))
        elif name == "user_id":
            values[name] = 10**20 if malformed else world.other_user
        elif name == "api":
            values[name] = "mws" if malformed else "ads"
        elif name == "queue":
            values[name] = "nowhere" if malformed else "default"
        elif name == "job_id":
            values[name] = "no-such-job"
        elif name == "token":
            values[name] = "no-such-token"
        elif name == "name":
            values[name] = "no-such-message.eml"
        elif name == "filename":
            values[name] = "no/such.css" if malformed else "css/app.css"
        elif name == "version":
            values[name] = "0.0.0" if malformed else PLOTLY_VERSION
        elif name == "anything":
            values[name] = "abc/def"
        else:
            raise AssertionError(f"tests/security/routes.py does not know the URL argument {name!r} of {rule}")
    return values


def expected(route: Route, seller_scoped: bool, role: str | None, variant: str) -> tuple[int, ...]:
    """The statuses the table allows for one request."""
    ok = route.ok if isinstance(route.ok, tuple) else (route.ok,)
    if route.access == PUBLIC:
        if role is not None and route.logged_in is not None:
            return (route.logged_in,)
        return (route.malformed,) if variant == "malformed" else ok
    if role is None:
        return (302,)  # to the login page
    if not seller_scoped and role not in ALLOWED[route.access]:
        return (403,)  # admin pages refuse other roles before looking at ids
    if variant == "malformed":
        return (404,)
    if variant == "foreign" and role != "admin":
        return (404,)
    if role not in ALLOWED[route.access]:
        # with another seller's sub-id, a view may look the id up (404) or check the role (403) first
        return (403, 404) if variant == "cross" else (403,)
    if variant == "cross":
        return (route.cross,)
    return ok
