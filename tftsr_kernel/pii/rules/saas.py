"""SaaS credentials: payments, e-mail and messaging, observability, identity, productivity and
developer platforms (Twilio, SendGrid, Mailgun, Mailchimp, Notion, Atlassian, Shopify, Facebook,
Adobe, Datadog, New Relic, Grafana, Sentry, PagerDuty, Okta, Dynatrace, Fastly, Postman,
Linear, ...).  Every type here is in the ``SaaSToken`` toggle.
"""

from __future__ import annotations

import re

from ._common import CASELESS, Rule
from ._tokens import B64_CHARS, HEX32, HEX40, HEX64, UUID, kw, tok

_DSN_KEY_REV = re.compile(r"(?:[0-9a-f]{32}:)?[0-9a-f]{32}", re.ASCII)
_DSN_HOST = re.compile(r"[A-Za-z0-9.\-]*sentry[A-Za-z0-9.\-]*", re.ASCII | re.I)


def _h_sentry_dsn(text: str, hits, out) -> None:
    """``https://<32 hex>[:<32 hex>]@<host with "sentry">/<project>``: the anchor is the ``@``
    with the start of the host; the key (and a legacy secret) before it is the span."""
    seen = set()
    for _s, e in hits:
        at = text.rfind("@", max(0, e - 9), e)
        if at < 32 or at in seen:
            continue
        seen.add(at)
        if not _DSN_HOST.match(text, at + 1):
            continue
        # the key part reads the same reversed: [hex32:]hex32
        m = _DSN_KEY_REV.fullmatch(text, at - 65, at) if at >= 65 and text[at - 33] == ":" else None
        s = at - 65 if m else at - 32
        if not all(c in "0123456789abcdef" for c in text[at - 32 : at]):
            continue
        if s and (text[s - 1].isalnum() or text[s - 1] in "_-"):
            continue
        out.append((s, at, "SentryDSN"))


RULES: tuple[Rule, ...] = (
    # --- messaging and e-mail -------------------------------------------------------------------
    tok("TwilioAPIKey", b"SK[0-9a-fA-F]{32}", r"SK[0-9a-fA-F]{32}", back=34, min_entropy=3.0),
    tok("TwilioAccountSID", b"AC[0-9a-f]{32}", r"AC[0-9a-f]{32}", back=34, min_entropy=3.0),
    kw(("twilio_auth_token", "twilio_token", "twilio_secret", "twilio_api_secret", "twilio"),
       (("TwilioAuthToken", HEX32, 3.0), ("TwilioAuthToken", r"[A-Za-z0-9]{32}", 3.5))),
    tok("SendGridKey", "SG.", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    tok("MailgunKey", b"key-[0-9a-f]{32}", r"key-[0-9a-f]{32}", back=36, min_entropy=3.0),
    tok("MailgunKey", "pubkey-", r"pubkey-[0-9a-f]{32}", min_entropy=3.0),
    kw(("mailgun_signing_key", "mailgun_webhook_signing_key", "mailgun_api_key", "mailgun"),
       (("MailgunKey", r"[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}", 3.0), ("MailgunKey", r"key-[0-9a-f]{32}", 3.0))),
    # anchor "-us<digit>": the key is the 32 hex digits before it (and one more digit after)
    tok("MailchimpKey", b"-us[0-9]", r"[0-9a-f]{32}-us[0-9]{1,2}", back=36, min_entropy=3.0),
    kw(("mandrill_api_key", "mandrill_key", "mandrill"), (("MandrillKey", r"md-[A-Za-z0-9_\-]{22}", 3.0),
                                                         ("MandrillKey", r"[A-Za-z0-9_\-]{22}", 3.5))),
    kw(("x-postmark-server-token", "x-postmark-account-token", "postmark_api_token", "postmark_server_token", "postmark"),
       (("PostmarkToken", UUID, 3.0),)),
    tok("BrevoKey", "xkeysib-", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    tok("BrevoKey", "xsmtpsib-", r"xsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    kw(("sparkpost_api_key", "sparkpost"), (("SparkPostKey", HEX40, 3.0),)),
    kw(("mailjet_api_secret", "mailjet_secret_key", "mj_apikey_private", "mailjet"), (("MailjetKey", HEX32, 3.0),)),
    kw(("messagebird_api_key", "messagebird", "message_bird"), (("MessageBirdKey", r"[A-Za-z0-9]{25}", 3.5),)),
    kw(("plivo_auth_token", "plivo"), (("PlivoAuthToken", r"[A-Za-z0-9]{40}", 3.5),)),
    kw(("vonage_api_secret", "nexmo_api_secret", "nexmo_secret", "vonage_secret"), (("VonageSecret", r"[A-Za-z0-9]{16}", 3.0),)),
    tok("TelnyxKey", "KEY0", r"KEY0[0-9A-F]{31}_[A-Za-z0-9]{22}"),
    kw(("resend_api_key", "resend_key"), (("ResendKey", r"re_[A-Za-z0-9_]{20,}", 3.5),)),
    # --- productivity, CRM, commerce ------------------------------------------------------------
    tok("NotionToken", "ntn_", r"ntn_[0-9]{11}[A-Za-z0-9]{35}"),
    tok("NotionToken", "secret_", r"secret_[A-Za-z0-9]{43}", min_entropy=4.0),
    tok("AtlassianAPIToken", "ATATT3", r"ATATT3[A-Za-z0-9_\-=]{150,}", min_entropy=4.0),
    kw(("jira_api_token", "jira_token", "confluence_api_token", "confluence_token", "atlassian_api_token", "atlassian_token"),
       (("AtlassianAPIToken", r"[A-Za-z0-9]{24}", 3.5), ("AtlassianAPIToken", r"ATATT3[A-Za-z0-9_\-=]{150,}", 0.0))),
    tok("ShopifyToken", b"shp(?:at|ss|ca|pa)_", r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}", back=6),
    tok("FacebookAccessToken", "EAA", r"EAA[A-Za-z0-9]{90,}", min_entropy=4.0),
    kw(("facebook_app_secret", "facebook_secret", "fb_app_secret", "facebook_client_secret", "facebook"),
       (("FacebookAppSecret", HEX32, 3.0), ("FacebookAccessToken", r"[0-9]{15,16}(?:\||%7[Cc])[A-Za-z0-9_\-]{27,40}", 3.0))),
    tok("InstagramToken", "IGQV", r"IGQV[A-Za-z0-9_\-]{100,}", min_entropy=4.0),
    tok("AdobeClientSecret", "p8e-", r"p8e-[A-Za-z0-9]{32}", min_entropy=3.0),
    kw(("adobe_client_id", "adobe_api_key", "adobe"), (("AdobeClientId", HEX32, 3.0),)),
    tok("HubSpotToken", b"pat-(?:na|eu)1-", r"pat-(?:na|eu)1-" + UUID, back=8),
    kw(("hubspot_api_key", "hapikey", "hubspot"), (("HubSpotToken", UUID, 3.0),)),
    kw(("zendesk_api_token", "zendesk_token", "zendesk"), (("ZendeskToken", r"[A-Za-z0-9]{40}", 3.5),)),
    kw(("intercom_access_token", "intercom_token", "intercom"), (("IntercomToken", r"[A-Za-z0-9=_\-]{60}", 3.5),)),
    kw(("freshdesk_api_key", "freshdesk"), (("FreshdeskKey", r"[A-Za-z0-9]{20}", 3.5),)),
    tok("AirtableToken", b"pat[A-Za-z0-9]{14}\\.", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}", back=18),
    kw(("airtable_api_key", "airtable"), (("AirtableToken", r"key[A-Za-z0-9]{14}", 3.0),)),
    kw(("asana_access_token", "asana_token", "asana_pat", "asana"),
       (("AsanaToken", r"[0-9]/[0-9]{16}:[A-Za-z0-9]{32}", 3.0), ("AsanaToken", r"[0-9]/[0-9]{10,16}/[0-9]{10,16}:[A-Za-z0-9]{32}", 3.0))),
    tok("ContentfulToken", "CFPAT-", r"CFPAT-[A-Za-z0-9_\-]{43}"),
    kw(("contentful_access_token", "contentful_delivery_token", "contentful"), (("ContentfulToken", r"[A-Za-z0-9_\-]{43}", 3.5),)),
    tok("DropboxToken", b"sl\\.[A-Za-z0-9_\\-]{40}", r"sl\.[A-Za-z0-9_\-]{130,}", back=43, min_entropy=4.0),
    kw(("dropbox_token", "dropbox_access_token", "dropbox"), (("DropboxToken", r"[A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9_=\-]{43}", 3.0),)),
    tok("FigmaToken", "figd_", r"figd_[A-Za-z0-9_\-]{40}"),
    tok("TypeformToken", "tfp_", r"tfp_[A-Za-z0-9_=.\-]{59}"),
    kw(("trello_api_key", "trello_token", "trello"), (("TrelloToken", HEX64, 3.0), ("TrelloToken", HEX32, 3.0))),
    kw(("box_client_secret", "box_developer_token", "box_access_token"), (("BoxToken", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("zoom_client_secret", "zoom_api_secret", "zoom_secret_token"), (("ZoomSecret", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("linkedin_client_secret", "linkedin_secret", "linkedin"), (("LinkedInSecret", r"[A-Za-z0-9]{16}", 3.0),)),
    kw(("twitch_client_secret", "twitch_token", "twitch"), (("TwitchToken", r"[a-z0-9]{30}", 3.5),)),
    tok("TwitterBearerToken", "AAAAAAAAAAAAAAAAAAAAA", r"A{21,22}[A-Za-z0-9%]{80,120}", min_entropy=3.0),
    kw(("twitter_api_secret", "twitter_consumer_secret", "twitter_access_token_secret", "twitter_secret", "twitter"),
       (("TwitterSecret", r"[A-Za-z0-9]{50}", 4.0), ("TwitterSecret", r"[A-Za-z0-9]{45}", 4.0),
        ("TwitterSecret", r"[0-9]{15,25}-[A-Za-z0-9]{20,40}", 3.5))),
    tok("MapboxToken", "sk.eyJ", r"sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{22}"),
    kw(("segment_write_key", "segment_api_key", "segment_token"), (("SegmentKey", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("mixpanel_api_secret", "mixpanel_secret"), (("MixpanelSecret", HEX32, 3.0),)),
    kw(("amplitude_secret_key", "amplitude_api_secret"), (("AmplitudeSecret", HEX32, 3.0),)),
    *(tok("LaunchDarklyKey", p + "-", p + "-" + UUID, min_entropy=3.0) for p in ("api", "sdk", "mob")),
    kw(("algolia_admin_key", "algolia_api_key", "algolia"), (("AlgoliaKey", r"[a-f0-9]{32}", 3.0),)),
    tok("MaxMindLicenseKey", "_mmk", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", back=40),
    kw(("shodan_api_key", "shodan"), (("ShodanKey", r"[A-Za-z0-9]{32}", 3.5),)),
    tok("SalesforceToken", b"00D[A-Za-z0-9]{12,15}!", r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{90,}", som=True),
    # --- payments -------------------------------------------------------------------------------
    tok("SquareToken", "sq0atp-", r"sq0atp-[A-Za-z0-9_\-]{22}"),
    tok("SquareToken", "sq0csp-", r"sq0csp-[A-Za-z0-9_\-]{43}"),
    tok("SquareToken", "EAAA", r"EAAA[A-Za-z0-9_\-]{60}", min_entropy=4.0),
    tok("BraintreeToken", "access_token$production$", r"access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}"),
    tok("RazorpayKey", b"rzp_(?:live|test)_", r"rzp_(?:live|test)_[A-Za-z0-9]{14}", som=True),
    kw(("razorpay_key_secret", "razorpay_secret"), (("RazorpayKey", r"[A-Za-z0-9]{24}", 3.5),)),
    tok("FlutterwaveKey", b"FLW(?:SECK|PUBK)(?:_TEST)?-", r"FLW(?:SECK|PUBK)(?:_TEST)?-[a-h0-9]{32}-X", som=True),
    tok("FlutterwaveKey", "FLWSECK_TEST-", r"FLWSECK_TEST-[a-h0-9]{12}"),
    tok("ShippoToken", b"shippo_(?:live|test)_", r"shippo_(?:live|test)_[a-fA-F0-9]{40}", som=True),
    tok("EasyPostKey", b"EZ[AT]K", r"EZ[AT]K[A-Za-z0-9]{54}", back=4),
    tok("DuffelToken", b"duffel_(?:test|live)_", r"duffel_(?:test|live)_[A-Za-z0-9_=\-]{43}", som=True),
    tok("PlaidToken", b"access-(?:sandbox|development|production)-", r"access-(?:sandbox|development|production)-" + UUID, som=True),
    kw(("plaid_secret", "plaid_secret_key"), (("PlaidToken", r"[a-z0-9]{30}", 3.5),)),
    kw(("coinbase_api_secret", "coinbase_secret", "coinbase"), (("CoinbaseSecret", r"[A-Za-z0-9_\-]{64}", 3.5),)),
    kw(("gocardless_access_token", "gocardless_token", "gocardless"), (("GoCardlessToken", r"live_[A-Za-z0-9_=\-]{40}", 3.0),)),
    kw(("lob_api_key", "lob_secret_key"), (("LobKey", r"(?:live|test)_[a-f0-9]{35}", 3.0),)),
    kw(("paypal_client_secret", "paypal_secret"), (("PayPalSecret", r"E[A-Za-z0-9_\-]{79}", 4.0),)),
    kw(("adyen_api_key", "adyen"), (("AdyenKey", r"AQE[A-Za-z0-9_+/=.\-]{60,}", 4.0),)),
    # --- observability --------------------------------------------------------------------------
    kw(("datadog_app_key", "datadog_application_key", "dd_app_key", "dd_application_key", "dd-application-key",
        "datadog_api_key", "dd_api_key", "dd-api-key", "datadog", "dd_client_token"),
       (("DatadogKey", r"[a-f0-9]{40}", 3.0), ("DatadogKey", r"[a-f0-9]{32}", 3.0), ("DatadogKey", r"pub[a-f0-9]{32}", 3.0))),
    tok("NewRelicKey", "NRAK-", r"NRAK-[A-Z0-9]{27}"),
    tok("NewRelicKey", "NRII-", r"NRII-[A-Za-z0-9_\-]{32}"),
    tok("NewRelicKey", "NRJS-", r"NRJS-[a-f0-9]{19}"),
    tok("NewRelicKey", "NRAA-", r"NRAA-[a-f0-9]{27}"),
    tok("NewRelicKey", "NRAL", r"[a-f0-9]{36}NRAL", back=40),
    kw(("new_relic_license_key", "newrelic_license_key", "nr_license_key", "new_relic_api_key", "newrelic"),
       (("NewRelicKey", r"[a-f0-9]{40}", 3.0),)),
    tok("GrafanaToken", "glc_", r"glc_[A-Za-z0-9+/]{32,400}={0,2}", after=B64_CHARS),
    tok("GrafanaToken", "glsa_", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    tok("GrafanaToken", "eyJrIjoi", r"eyJrIjoi[A-Za-z0-9]{70,400}={0,2}", after=B64_CHARS),
    tok("SentryToken", "sntrys_eyJ", r"sntrys_eyJ[A-Za-z0-9+/=_]{60,}"),
    tok("SentryToken", "sntryu_", r"sntryu_[a-f0-9]{64}"),
    Rule(rb"@o[0-9]", 0, _h_sentry_dsn, ("SentryDSN",)),
    Rule(rb"@sentry\.", CASELESS, _h_sentry_dsn, ("SentryDSN",)),
    kw(("sentry_auth_token", "sentry_token", "sentry_key", "sentry"), (("SentryToken", HEX64, 3.0), ("SentryToken", HEX32, 3.0))),
    kw(("pagerduty_token", "pagerduty_api_key", "pagerduty_api_token", "pd_api_key", "pagerduty"),
       (("PagerDutyKey", r"u\+[A-Za-z0-9_+\-]{18}", 3.0), ("PagerDutyKey", r"[A-Za-z0-9_+\-]{20}", 3.5), ("PagerDutyKey", HEX32, 3.0))),
    kw(("routing_key", "integration_key", "service_key"), (("PagerDutyKey", r"[a-f0-9]{32}", 3.0), ("PagerDutyKey", r"R0[A-Z0-9]{30}", 3.0))),
    kw(("opsgenie_api_key", "opsgenie", "geniekey"), (("OpsgenieKey", UUID, 3.0),)),
    kw(("x-honeycomb-team", "honeycomb_api_key", "honeycomb_key", "honeycomb_writekey"),
       (("HoneycombKey", r"hc[a-z]{2,4}_[A-Za-z0-9]{26,60}", 3.0), ("HoneycombKey", r"[A-Za-z0-9]{32}", 3.5),
        ("HoneycombKey", r"[A-Za-z0-9]{22}", 3.5))),
    tok("SplunkHECToken", "Splunk ", r"Splunk (" + UUID + ")", group=1, before=None),
    kw(("splunk_hec_token", "hec_token", "splunk_token"), (("SplunkHECToken", UUID, 3.0),)),
    kw(("sumo_access_key", "sumologic_access_key", "sumo_access_id", "sumologic"),
       (("SumoLogicKey", r"[A-Za-z0-9]{64}", 4.0), ("SumoLogicKey", r"su[A-Za-z0-9]{12}", 3.0))),
    tok("DynatraceToken", b"dt0[cs]01\\.", r"dt0[cs]01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", back=7),
    kw(("fastly_api_token", "fastly_api_key", "fastly-key", "fastly_key", "fastly"), (("FastlyToken", r"[A-Za-z0-9=_\-]{32}", 3.5),)),
    kw(("rollbar_access_token", "rollbar_token", "rollbar"), (("RollbarToken", HEX32, 3.0),)),
    kw(("bugsnag_api_key", "bugsnag"), (("BugsnagKey", HEX32, 3.0),)),
    kw(("loggly_token", "loggly_customer_token", "loggly"), (("LogglyToken", UUID, 3.0),)),
    kw(("logzio_token", "logz_token", "logzio_shipping_token"), (("LogzioToken", r"[A-Za-z]{32}", 3.5),)),
    kw(("lightstep_access_token", "ls_access_token", "lightstep"), (("LightstepToken", r"[A-Za-z0-9+/=]{84,}", 4.0),)),
    tok("ElasticAPIKey", "ApiKey ", r"ApiKey ([A-Za-z0-9+/_\-]{40,}={0,2})", group=1, before=None, after=B64_CHARS),
    kw(("elastic_api_key", "es_api_key", "elasticsearch_api_key"), (("ElasticAPIKey", r"[A-Za-z0-9+/_\-]{40,}={0,2}", 4.0),)),
    kw(("instana_agent_key", "instana_api_token", "instana"), (("InstanaKey", r"[A-Za-z0-9_\-]{22}", 3.5),)),
    # --- identity -------------------------------------------------------------------------------
    tok("OktaToken", "SSWS ", r"SSWS (00[A-Za-z0-9_\-]{40})", group=1, before=None),
    kw(("okta_api_token", "okta_token", "okta_api_key", "okta"), (("OktaToken", r"00[A-Za-z0-9_\-]{40}", 3.5),)),
    kw(("auth0_client_secret", "auth0_secret", "auth0"), (("Auth0Secret", r"[A-Za-z0-9_\-]{64}", 4.0),)),
    kw(("keycloak_client_secret", "kc_client_secret"), (("KeycloakSecret", r"[A-Za-z0-9]{32}", 3.5),)),
    tok("AuthressKey", b"(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\\.[A-Za-z0-9]{4,6}\\.acc[_\\-]",
        r"(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_\-][A-Za-z0-9\-]{10,32}\.[A-Za-z0-9+/_=\-]{30,120}", som=True),
    kw(("jumpcloud_api_key", "jumpcloud"), (("JumpCloudKey", r"[a-f0-9]{40}", 3.0),)),
    # --- developer platforms --------------------------------------------------------------------
    # --- more product APIs with a documented prefix ---------------------------------------------
    tok("PostHogKey", "phx_", r"phx_[A-Za-z0-9]{43}"),
    tok("PinterestToken", "pina_", r"pina_[A-Za-z0-9]{32,}"),
    tok("ApifyToken", "apify_api_", r"apify_api_[A-Za-z0-9]{36}"),
    tok("ClickUpToken", b"pk_[0-9]{6,10}_", r"pk_[0-9]{6,10}_[A-Z0-9]{32}", som=True),
    tok("KlaviyoKey", b"pk_[a-f0-9]{34}", r"pk_[a-f0-9]{34}", back=37, min_entropy=3.0),
    tok("LichessToken", "lip_", r"lip_[A-Za-z0-9]{16,24}", min_entropy=3.0),
    tok("MailerSendToken", "mlsn.", r"mlsn\.[a-f0-9]{64}"),
    tok("OneSignalKey", "os_v2_app_", r"os_v2_app_[a-z0-9]{50,}"),
    tok("PaddleKey", b"pdl_(?:live|sdbx)_apikey_", r"pdl_(?:live|sdbx)_apikey_[A-Za-z0-9_]{40,}", som=True),
    tok("PolarToken", b"polar_(?:oat|pat)_", r"polar_(?:oat|pat)_[A-Za-z0-9]{30,}", som=True),
    tok("RootlyKey", "rootly_", r"rootly_[a-f0-9]{64}"),
    tok("UnkeyKey", "unkey_", r"unkey_[A-Za-z0-9]{16,}", min_entropy=3.5),
    tok("WakaTimeKey", "waka_", r"waka_" + UUID),
    tok("ZuploKey", "zpka_", r"zpka_[a-f0-9]{32}_[a-f0-9]{8}"),
    tok("SettleMintToken", b"sm_(?:aat|pat|sat)_", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}", back=7),
    tok("CloudinaryURL", "cloudinary://", r"cloudinary://([0-9]{12,16}:[A-Za-z0-9_\-]{20,40})@", group=1, before=None, after=None),
    kw(("meraki_api_key", "x-cisco-meraki-api-key", "meraki"), (("MerakiAPIKey", r"[0-9a-f]{40}", 3.0),)),
    kw(("kucoin_api_secret", "kucoin_secret", "kucoin"), (("KuCoinSecret", UUID, 3.0), ("KuCoinSecret", r"[a-f0-9]{24}", 3.0))),
    kw(("kraken_private_key", "kraken_api_secret", "kraken"), (("KrakenSecret", r"[A-Za-z0-9/=_+\-]{80,90}", 4.0),)),
    kw(("binance_api_secret", "binance_secret_key", "binance"), (("BinanceSecret", r"[A-Za-z0-9]{64}", 4.0),)),
    kw(("bittrex_api_secret", "bittrex"), (("BittrexSecret", r"[a-z0-9]{32}", 3.5),)),
    kw(("bundle_enterprise__contribsys__com", "bundle_gems__contribsys__com"), (("SidekiqSecret", r"[a-f0-9]{8}:[a-f0-9]{8}", 2.5),)),
    *(tok("SidekiqSecret", "@" + h, r"([a-f0-9]{8}:[a-f0-9]{8})@" + h.replace(".", r"\."), back=18 + len(h), group=1, after=None)
      for h in ("gems.contribsys.com", "enterprise.contribsys.com")),
    kw(("rapidapi_key", "x-rapidapi-key", "rapidapi"), (("RapidAPIKey", r"[A-Za-z0-9_\-]{50}", 4.0),)),
    kw(("squarespace_api_key", "squarespace"), (("SquarespaceKey", UUID, 3.0),)),
    kw(("looker_client_secret", "looker"), (("LookerSecret", r"[A-Za-z0-9]{24}", 3.5),)),
    kw(("sendbird_api_token", "sendbird"), (("SendbirdToken", r"[a-f0-9]{40}", 3.0),)),
    kw(("etsy_api_key", "etsy_keystring", "etsy"), (("EtsyKey", r"[a-z0-9]{24}", 3.5),)),
    kw(("finnhub_api_key", "finnhub"), (("FinnhubKey", r"[a-z0-9]{20}", 3.5),)),
    kw(("nytimes_api_key", "nytimes"), (("NYTimesKey", r"[A-Za-z0-9=_\-]{32}", 3.5),)),
    kw(("flickr_api_secret", "flickr"), (("FlickrKey", r"[a-f0-9]{32}", 3.0),)),
    kw(("freshbooks_token", "freshbooks"), (("FreshBooksToken", r"[a-z0-9]{64}", 3.5),)),
    kw(("lark_app_secret", "feishu_app_secret", "lark"), (("LarkSecret", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("mongodb_atlas_private_key", "atlas_private_key", "mongodb_atlas_api_private_key"), (("MongoDBAtlasKey", UUID, 3.0),)),
    kw(("beamer_api_key", "beamer_token", "beamer"), (("BeamerToken", r"b_[A-Za-z0-9=_\-]{44}", 3.0),)),
    tok("DefinedNetworkingToken", "dnkey-", r"dnkey-[A-Za-z0-9=_\-]{26}-[A-Za-z0-9=_\-]{52}"),
    tok("DataStaxAstraToken", "AstraCS:", r"AstraCS:[A-Za-z]{24}:[a-f0-9]{64}"),
    tok("OnfidoToken", b"api_(?:live|sandbox)(?:_us|_ca)?\\.", r"api_(?:live|sandbox)(?:_us|_ca)?\.[A-Za-z0-9_\-]{11}\.[A-Za-z0-9_\-]{32}", som=True),
    kw(("influxdb_token", "influx_token", "influxdb_admin_token", "docker_influxdb_init_admin_token"),
       (("InfluxDBToken", r"[A-Za-z0-9_\-]{86}==", 4.0), ("InfluxDBToken", r"[A-Za-z0-9_\-=]{40,}", 4.0))),
    kw(("coveralls_repo_token", "coveralls_token"), (("CoverallsToken", r"[A-Za-z0-9]{32,37}", 3.5),)),
    kw(("bitly_access_token", "bitly_token"), (("BitlyToken", r"[a-f0-9]{40}", 3.0),)),
    kw(("bitrise_token", "bitrise_access_token"), (("BitriseToken", r"[A-Za-z0-9_\-]{86}", 4.0), ("BitriseToken", r"[A-Za-z0-9_\-]{40,}", 4.0))),
    kw(("cloudsmith_api_key", "cloudsmith_token"), (("CloudsmithKey", r"[a-f0-9]{40}", 3.0),)),
    kw(("tableau_pat_secret", "tableau_token_value", "tableau_personal_access_token"),
       (("TableauToken", r"[A-Za-z0-9+/=]{22,}:[A-Za-z0-9]{32}", 3.5),)),
    kw(("temporal_cloud_api_key", "temporal_api_key"), (("TemporalCloudKey", r"eyJ[A-Za-z0-9_\-]{40,}(?:\.[A-Za-z0-9_\-]+){0,2}", 3.5),)),
    kw(("ramp_client_secret", "ramp_api_key"), (("RampSecret", r"ramp_sec_[A-Za-z0-9]{48}", 3.5), ("RampSecret", r"[A-Za-z0-9]{48}", 4.0))),
    kw(("scalr_token", "scalr_api_token"), (("ScalrToken", r"[A-Za-z0-9_\-.]{40,}", 4.0),)),
    kw(("openweather_api_key", "openweathermap_api_key", "owm_api_key"), (("OpenWeatherKey", r"[a-f0-9]{32}", 3.0),)),
    tok("Intra42Secret", b"s-s4t2(?:ud|af)-", r"s-s4t2(?:ud|af)-[a-f0-9]{64}", back=9),
    tok("PostmanToken", "PMAK-", r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"),
    tok("LinearToken", "lin_api_", r"lin_api_[A-Za-z0-9]{40}"),
    tok("LinearToken", "lin_oauth_", r"lin_oauth_[a-f0-9]{64}"),
    kw(("confluent_api_secret", "confluent_secret", "confluent"), (("ConfluentSecret", r"[A-Za-z0-9+/]{64}", 4.0),)),
    tok("FrameIOToken", "fio-u-", r"fio-u-[A-Za-z0-9_=\-]{64}"),
    tok("ClickHouseKey", "4b1d", r"4b1d[A-Za-z0-9]{38}", min_entropy=4.0),
)
