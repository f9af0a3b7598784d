"""Value types of the PII detector: spans, configuration, statistics and type ordering."""

from __future__ import annotations

#: the types that can be turned on and off (``pii_enabled_types``, ``tftsr pii types``, the
#: settings panel), in display order.  Most are also the span type they report; the toggles
#: ``CloudKey``, ``DevToolToken``, ``ChatToken``, ``SaaSToken`` and ``AIKey`` (and
#: ``PrivateKey``) stand for the secret families listed in :data:`FAMILY_TOGGLES`, whose spans
#: are named after the family (``SendGridKey``, ``AzureSASSignature``) so a placeholder says
#: what it replaced.
PII_TYPES: tuple[str, ...] = (
    "IPv4",
    "IPv6",
    "MAC",
    "Hostname",
    "URLCredentials",
    "Email",
    "Phone",
    "SSN",
    "CreditCard",
    "IBAN",
    "AWSAccessKey",
    "AWSSecretKey",
    "GitHubToken",
    "GitLabToken",
    "SlackToken",
    "StripeKey",
    "GoogleAPIKey",
    "CloudKey",
    "DevToolToken",
    "ChatToken",
    "SaaSToken",
    "AIKey",
    "JWT",
    "PrivateKey",
    "PasswordHash",
    "BearerToken",
    "BasicAuth",
    "Password",
    "Secret",
    "Custom",
)

#: toggle -> the service-specific span types it stands for (besides itself, where it is one)
FAMILY_TOGGLES: dict[str, tuple[str, ...]] = {
    "CloudKey": (
        "AWSSessionToken", "AWSBedrockKey", "AmazonMWSKey", "GCPOAuthToken", "GCPRefreshToken",
        "GCPOAuthClientSecret", "GCPServiceAccountKeyId", "FirebaseServerKey",
        "AzureStorageKey", "AzureSharedAccessKey", "AzureAppConfigSecret", "AzureSASSignature",
        "SignedURLSignature", "AzureADClientSecret", "AzureDevOpsPAT", "AzureAPIKey",
        "AlibabaAccessKey", "AlibabaSecretKey", "AlibabaSTSToken", "TencentSecretId",
        "TencentSecretKey", "DigitalOceanToken", "HerokuAPIKey", "IBMCloudAPIKey",
        "YandexAPIKey", "YandexAccessKey", "YandexIAMToken", "ScalewayAccessKey",
        "ScalewaySecretKey", "LinodeToken", "VultrAPIKey", "HetznerToken", "CivoAPIKey",
        "ExoscaleAPIKey", "OVHSecret", "FlyIOToken", "VercelToken", "NetlifyToken",
        "RenderAPIKey", "SupabaseToken", "DatabricksToken", "PlanetScaleToken",
        "PlanetScalePassword", "NeonAPIKey", "TailscaleKey", "CloudflareOriginCAKey",
        "CloudflareAPIToken", "CloudflareAPIKey", "OpenShiftToken", "DockerSwarmToken",
    ),
    "DevToolToken": (
        "BitbucketToken", "NpmToken", "PyPIToken", "NuGetPassword", "NuGetAPIKey",
        "RubyGemsToken", "CratesIOToken", "ClojarsToken", "DockerConfigAuth", "DockerHubToken",
        "ArtifactoryToken", "SourcegraphToken", "CircleCIToken", "BuildkiteToken",
        "TravisCIToken", "DroneCIToken", "JenkinsToken", "TeamCityToken", "OctopusAPIKey",
        "HarnessToken", "GiteaToken", "SnykToken", "SonarQubeToken", "CodecovToken",
        "VaultToken", "TerraformCloudToken", "DopplerToken", "PulumiToken", "InfracostToken",
        "PrefectToken", "ReadMeToken", "ScalingoToken", "DenoDeployToken",
        "OnePasswordSecretKey", "OnePasswordToken", "ConsulNomadToken",
    ),
    "ChatToken": (
        "SlackWebhook", "TeamsWebhook", "DiscordWebhook", "DiscordBotToken",
        "DiscordClientSecret", "TelegramBotToken", "MattermostToken", "GitterToken",
        "PushoverToken", "ZulipAPIKey", "WebexToken",
    ),
    "SaaSToken": (
        "TwilioAPIKey", "TwilioAccountSID", "TwilioAuthToken", "SendGridKey", "MailgunKey",
        "MailchimpKey", "MandrillKey", "PostmarkToken", "BrevoKey", "SparkPostKey",
        "MailjetKey", "MessageBirdKey", "PlivoAuthToken", "VonageSecret", "TelnyxKey",
        "ResendKey", "NotionToken", "AtlassianAPIToken", "ShopifyToken", "FacebookAccessToken",
        "FacebookAppSecret", "InstagramToken", "AdobeClientSecret", "AdobeClientId",
        "HubSpotToken", "ZendeskToken", "IntercomToken", "FreshdeskKey", "AirtableToken",
        "AsanaToken", "ContentfulToken", "DropboxToken", "FigmaToken", "TypeformToken",
        "TrelloToken", "BoxToken", "ZoomSecret", "LinkedInSecret", "TwitchToken",
        "TwitterBearerToken", "TwitterSecret", "MapboxToken", "SegmentKey", "MixpanelSecret",
        "AmplitudeSecret", "LaunchDarklyKey", "AlgoliaKey", "MaxMindLicenseKey", "ShodanKey",
        "SalesforceToken", "SquareToken", "BraintreeToken", "RazorpayKey", "FlutterwaveKey",
        "ShippoToken", "EasyPostKey", "DuffelToken", "PlaidToken", "CoinbaseSecret",
        "GoCardlessToken", "LobKey", "PayPalSecret", "AdyenKey", "DatadogKey", "NewRelicKey",
        "GrafanaToken", "SentryToken", "SentryDSN", "PagerDutyKey", "OpsgenieKey",
        "HoneycombKey", "SplunkHECToken", "SumoLogicKey", "DynatraceToken", "FastlyToken",
        "RollbarToken", "BugsnagKey", "LogglyToken", "LogzioToken", "LightstepToken",
        "ElasticAPIKey", "InstanaKey", "OktaToken", "Auth0Secret", "KeycloakSecret",
        "AuthressKey", "JumpCloudKey", "PostmanToken", "LinearToken", "ConfluentSecret",
        "FrameIOToken", "ClickHouseKey", "Intra42Secret", "PostHogKey", "PinterestToken",
        "ApifyToken", "ClickUpToken", "KlaviyoKey", "LichessToken", "MailerSendToken", "OneSignalKey",
        "PaddleKey", "PolarToken", "RootlyKey", "UnkeyKey", "WakaTimeKey", "ZuploKey", "SettleMintToken",
        "CloudinaryURL", "MerakiAPIKey", "KuCoinSecret", "KrakenSecret", "BinanceSecret", "BittrexSecret",
        "SidekiqSecret", "RapidAPIKey", "SquarespaceKey", "LookerSecret", "SendbirdToken", "EtsyKey",
        "FinnhubKey", "NYTimesKey", "BeamerToken", "DefinedNetworkingToken", "DataStaxAstraToken",
        "OnfidoToken", "InfluxDBToken", "CoverallsToken", "BitlyToken", "BitriseToken", "CloudsmithKey",
        "TableauToken", "TemporalCloudKey", "RampSecret", "ScalrToken", "OpenWeatherKey", "FlickrKey", "FreshBooksToken", "LarkSecret", "MongoDBAtlasKey",
    ),
    "AIKey": (
        "OpenAIKey", "AnthropicKey", "OpenRouterKey", "HuggingFaceToken", "GroqKey",
        "PerplexityKey", "XAIKey", "ReplicateToken", "LangSmithKey", "PineconeKey",
        "CerebrasKey", "NvidiaAPIKey", "ElevenLabsKey", "CohereKey", "MistralKey",
        "TogetherKey", "WandbKey", "AssemblyAIKey", "DeepgramKey", "DeepSeekKey", "ChatModelKey", "AIProviderKey",
    ),
    "PrivateKey": (
        "PuTTYPrivateKey", "AgeSecretKey",
    ),
}

#: every service-specific family type (the values of :data:`FAMILY_TOGGLES`)
FAMILY_TYPES: tuple[str, ...] = tuple(t for ts in FAMILY_TOGGLES.values() for t in ts)

#: span type -> the toggle that turns it on and off (a toggle maps to itself)
TOGGLE_OF: dict[str, str] = {t: t for t in PII_TYPES}
TOGGLE_OF.update({t: g for g, ts in FAMILY_TOGGLES.items() for t in ts})

#: groups of toggles, accepted wherever types are named (``pii_enabled_types``, ``--types``):
#: ``["secrets"]`` turns on every credential type, ``["network", "personal"]`` the rest
TYPE_GROUPS: dict[str, tuple[str, ...]] = {
    "network": ("IPv4", "IPv6", "MAC", "Hostname", "URLCredentials"),
    "personal": ("Email", "Phone", "SSN"),
    "financial": ("CreditCard", "IBAN"),
    "secrets": tuple(
        t for t in PII_TYPES if t not in ("IPv4", "IPv6", "MAC", "Hostname", "Email", "Phone", "SSN",
                                          "CreditCard", "IBAN", "Custom")
    ),
}

#: every name a type list may hold: toggles, family span types and group names
KNOWN_TYPE_NAMES: frozenset[str] = frozenset(PII_TYPES) | frozenset(FAMILY_TYPES) | frozenset(TYPE_GROUPS)


def enabled_toggles(names) -> list[str]:
    """The toggles (in :data:`PII_TYPES` order) a ``pii_enabled_types`` value turns on, for a
    panel of check boxes: ``None`` is every toggle, a group is its toggles, a toggle is itself;
    a family type named on its own turns no toggle on (its toggle is only partly on)."""
    if names is None:
        return list(PII_TYPES)
    on: set[str] = set()
    for n in names:
        on.update(TYPE_GROUPS.get(n, (n,)))
    return [t for t in PII_TYPES if t in on]


def expand_types(names) -> frozenset[str]:
    """The span types a list of enabled names stands for: a group is its toggles, a toggle is
    itself and its families; other names (a family type, a custom pattern's name) stay."""
    out: set[str] = set()
    for n in names:
        for t in TYPE_GROUPS.get(n, (n,)):
            out.add(t)
            out.update(FAMILY_TOGGLES.get(t, ()))
    return frozenset(out)


#: credential-like types; when spans overlap, a credential type names the merged span
SECRET_TYPES: frozenset[str] = frozenset(
    {
        "PrivateKey",
        "AWSAccessKey",
        "AWSSecretKey",
        "GitHubToken",
        "GitLabToken",
        "SlackToken",
        "StripeKey",
        "GoogleAPIKey",
        "JWT",
        "URLCredentials",
        "BearerToken",
        "BasicAuth",
        "Password",
        "Secret",
        "PasswordHash",
    }
) | frozenset(FAMILY_TYPES)

# Merge priority (higher wins).  Specific token formats beat generic "key=value" findings, so a
# GitHub token written as ``password=ghp_...`` is reported as GitHubToken.
_PRIORITY_ORDER = (
    "Hostname",
    "Phone",
    "IPv4",
    "MAC",
    "IPv6",
    "Email",
    "SSN",
    "IBAN",
    "CreditCard",
    "Custom",
    "Secret",
    "Password",
    "BasicAuth",
    "BearerToken",
    "URLCredentials",
    "JWT",
    "GoogleAPIKey",
    "StripeKey",
    "SlackToken",
    "GitLabToken",
    "GitHubToken",
    "AWSSecretKey",
    "AWSAccessKey",
    "PasswordHash",
    *FAMILY_TYPES,
    "PrivateKey",
)
PRIORITY: dict[str, int] = {t: i for i, t in enumerate(_PRIORITY_ORDER)}


# Plain classes with the behaviour of the dataclasses they replace (init, repr, eq; Span is
# frozen and hashable, the others are mutable and unhashable): importing ``dataclasses``
# (which imports ``inspect``) and generating the methods cost ~8 ms of ``tftsr pii`` start-up.
class _Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _astuple(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({args})"

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._astuple() == other._astuple()
        return NotImplemented


class Span(_Record):
    """One finding: character offsets into the decoded text (``end`` exclusive) and its value."""

    __slots__ = ("type", "start", "end", "text")
    _fields = __slots__
    __match_args__ = __slots__

    type: str
    start: int
    end: int
    text: str

    def __init__(self, type: str, start: int, end: int, text: str) -> None:  # noqa: A002
        setattr_ = object.__setattr__
        setattr_(self, "type", type)
        setattr_(self, "start", start)
        setattr_(self, "end", end)
        setattr_(self, "text", text)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash((self.type, self.start, self.end, self.text))

    def __reduce__(self):
        return (Span, (self.type, self.start, self.end, self.text))


class DetectorConfig(_Record):
    """What to look for.

    ``enabled_types``: None means every type.  A custom pattern's spans are kept when
    ``"Custom"`` or the pattern's own name is enabled.
    ``custom_patterns``: ``(name, regex)`` pairs in Python ``re`` syntax, matched within one
    line; spans get the pattern's name as type (``"Custom"`` when the name is empty).
    ``allowlist``: exact values that are never flagged.
    """

    __slots__ = ("enabled_types", "custom_patterns", "allowlist", "__dict__", "__weakref__")
    _fields = ("enabled_types", "custom_patterns", "allowlist")
    __match_args__ = _fields
    __hash__ = None  # type: ignore[assignment]

    enabled_types: frozenset[str] | None
    custom_patterns: tuple[tuple[str, str], ...]
    allowlist: tuple[str, ...]

    def __init__(
        self,
        enabled_types: frozenset[str] | None = None,
        custom_patterns: tuple[tuple[str, str], ...] = (),
        allowlist: tuple[str, ...] = (),
    ) -> None:
        # a group or toggle name stands for its span types (see expand_types)
        self.enabled_types = None if enabled_types is None else expand_types(enabled_types)
        self.custom_patterns = custom_patterns
        self.allowlist = allowlist


class RedactStats(_Record):
    """What :func:`redact_file` did."""

    __slots__ = ("bytes_in", "bytes_out", "spans", "by_type", "__dict__", "__weakref__")
    _fields = ("bytes_in", "bytes_out", "spans", "by_type")
    __match_args__ = _fields
    __hash__ = None  # type: ignore[assignment]

    bytes_in: int
    bytes_out: int
    spans: int
    by_type: dict[str, int]

    def __init__(self, bytes_in: int = 0, bytes_out: int = 0, spans: int = 0, by_type: dict[str, int] | None = None) -> None:
        self.bytes_in = bytes_in
        self.bytes_out = bytes_out
        self.spans = spans
        self.by_type = {} if by_type is None else by_type
