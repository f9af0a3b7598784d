"""Cloud providers' credentials: AWS (beyond access key ids), Google Cloud, Azure, Alibaba,
Tencent, DigitalOcean, Heroku, IBM, Yandex, Scaleway, Linode, Vultr, Hetzner, Exoscale, Fly.io,
Vercel, Netlify, Render, Supabase, Databricks, PlanetScale, Neon, Tailscale, Cloudflare,
OpenShift and Docker Swarm.

Formats are the providers' documented token shapes; where a value has no shape of its own (an
Azure storage key, a Linode token) it is found through the key or connection-string field that
holds it.  Type names say what the value is; every type here is in the ``CloudKey`` toggle
except ``AWSSecretKey`` (its own, older toggle).
"""

from __future__ import annotations

from ._common import Rule
from ._tokens import B64_BEFORE, B64_CHARS, UUID, kw, tok

_AZ_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_AD_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-")

RULES: tuple[Rule, ...] = (
    # --- AWS -------------------------------------------------------------------------------
    # access key ids with the older A3T prefix (the base rule knows AKIA, ASIA, ...)
    tok("AWSAccessKey", b"A3T[A-Z0-9]", r"A3T[A-Z0-9][A-Z0-9]{16}", back=4),
    # STS session tokens: the base64 of a serialized token starts with one of these
    tok("AWSSessionToken", "FwoGZXIvYXdzE", r"FwoGZXIvYXdzE[A-Za-z0-9+/]{80,}={0,2}", before=B64_BEFORE, after=B64_CHARS),
    tok("AWSSessionToken", "IQoJb3JpZ2luX2Vj", r"IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]{80,}={0,2}", before=B64_BEFORE, after=B64_CHARS),
    kw(
        ("aws_session_token", "aws-session-token", "awssessiontoken", "x-amz-security-token", "sessiontoken"),
        (("AWSSessionToken", r"(?:[A-Za-z0-9+/]|%2[BbFf]){100,}(?:=|%3[Dd]){0,2}", 4.0),),
    ),
    kw(
        ("aws_secret_access_key", "aws-secret-access-key", "secretaccesskey", "secret_access_key", "aws_secret_key"),
        (("AWSSecretKey", r"[A-Za-z0-9/+]{40}", 3.5),),
    ),
    # Amazon Bedrock long-lived API keys (base64 of "BedrockAPIKey-...")
    tok("AWSBedrockKey", "ABSKQmVkcm9ja0FQSUtleS", r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{87,247}={0,2}", after=B64_CHARS),
    # short-lived keys: "bedrock-api-key-" + the base64 of a presigned bedrock.amazonaws.com URL
    tok("AWSBedrockKey", "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/%]*={0,2}",
        after=B64_CHARS),
    tok("AmazonMWSKey", "amzn.mws.", r"amzn\.mws\." + UUID),
    # --- Google Cloud ----------------------------------------------------------------------
    tok("GCPOAuthToken", "ya29.", r"ya29\.[0-9A-Za-z_\-]{20,}", after=frozenset()),
    tok("GCPRefreshToken", "1//0", r"1//0[0-9A-Za-z_\-]{38,}", before=frozenset("0123456789/:")),
    tok("GCPOAuthClientSecret", "GOCSPX-", r"GOCSPX-[A-Za-z0-9_\-]{28}"),
    kw(("private_key_id",), (("GCPServiceAccountKeyId", r"[0-9a-f]{40}", 3.0),)),
    # Firebase Cloud Messaging legacy server keys
    tok("FirebaseServerKey", ":APA91b", r"AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{130,140}", back=18),
    # --- Azure -----------------------------------------------------------------------------
    tok("AzureStorageKey", "AccountKey=", r"AccountKey=([A-Za-z0-9+/]{86}==)", group=1, before=None, after=_AZ_KEY_CHARS),
    kw(
        ("azure_storage_key", "azure_storage_account_key", "storage_account_key", "storageaccountkey", "azurestoragekey",
         "azure_storage_access_key", "primary_access_key", "secondary_access_key", "cosmos_key", "cosmosdb_key", "primarymasterkey"),
        (("AzureStorageKey", r"[A-Za-z0-9+/]{86}==", 4.0),),
    ),
    tok("AzureSharedAccessKey", "SharedAccessKey=", r"SharedAccessKey=([A-Za-z0-9+/]{42,44}={0,2})", group=1, before=None, after=_AZ_KEY_CHARS),
    tok("AzureAppConfigSecret", ";Secret=", r";Secret=([A-Za-z0-9+/]{40,}={0,2})", group=1, before=None, after=_AZ_KEY_CHARS),
    # Shared-access-signature URLs (Storage, Service Bus, Logic Apps / Teams workflows) and other
    # signed URLs: the signature is the secret; sv=, se=, sp= stay readable
    tok(
        "AzureSASSignature",
        b"[?&;]sig=",
        r"[?&;]sig=((?:[A-Za-z0-9+/_\-]|%[0-9A-Fa-f]{2}){20,})",
        back=5,
        group=1,
        before=None,
        after=None,
    ),
    tok(
        "SignedURLSignature",
        b"[?&](?:X-Amz-Signature|X-Goog-Signature|Signature)=",
        r"[?&](?:X-Amz-Signature|X-Goog-Signature|Signature)=((?:[A-Za-z0-9+/_~\-]|%[0-9A-Fa-f]{2}){32,})",
        som=True,
        group=1,
        before=None,
        after=None,
    ),
    tok(
        "AWSSessionToken",
        b"[?&]X-Amz-Security-Token=",
        r"[?&]X-Amz-Security-Token=((?:[A-Za-z0-9+/_\-]|%[0-9A-Fa-f]{2}){40,})",
        som=True,
        group=1,
        before=None,
        after=None,
    ),
    # Entra ID (Azure AD) client secrets: three characters, a digit, "Q~", 31-34 more
    tok(
        "AzureADClientSecret",
        "Q~",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
        back=6,
        min_entropy=3.0,
        before=_AD_SECRET_CHARS,
        after=_AD_SECRET_CHARS,
    ),
    # Azure DevOps personal access tokens: the 84-character format carries "AZDO" at 76
    tok("AzureDevOpsPAT", "AZDO", r"[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}", back=80),
    kw(
        ("azure_devops_pat", "azure_devops_ext_pat", "azdo_pat", "ado_pat", "system_accesstoken", "azure_devops_token"),
        (("AzureDevOpsPAT", r"[a-z2-7]{52}", 3.5), ("AzureDevOpsPAT", r"[A-Za-z0-9]{84}", 4.0)),
    ),
    kw(
        ("ocp-apim-subscription-key", "x-functions-key", "azure_openai_api_key", "azure_openai_key", "azure_cognitive_key",
         "azure_search_key", "azure_speech_key"),
        (("AzureAPIKey", r"[0-9a-fA-F]{32}", 3.0), ("AzureAPIKey", r"[A-Za-z0-9_\-]{54,56}={0,2}", 4.0),
         ("AzureAPIKey", r"[A-Za-z0-9]{84}", 4.0)),
    ),
    kw(
        ("azure_client_secret", "arm_client_secret", "azure_ad_client_secret", "aad_client_secret"),
        (("AzureADClientSecret", r"[A-Za-z0-9_~.\-]{34,44}", 3.5),),
    ),
    # --- Alibaba, Tencent ----------------------------------------------------------------------
    tok("AlibabaAccessKey", "LTAI", r"LTAI[A-Za-z0-9]{12,20}", min_entropy=3.0),
    kw(
        ("alibaba", "aliyun", "alicloud", "accesskeysecret", "access_key_secret", "alibaba_cloud_access_key_secret"),
        (("AlibabaSecretKey", r"[A-Za-z0-9]{30}", 3.5),),
    ),
    tok("AlibabaSTSToken", "STS.", r"STS\.[A-Za-z0-9]{20,40}", min_entropy=3.5),
    tok("TencentSecretId", "AKID", r"AKID[A-Za-z0-9]{32}", min_entropy=3.5),
    kw(("tencentcloud_secret_key", "tencent_secret_key", "tencentsecretkey"), (("TencentSecretKey", r"[A-Za-z0-9]{32}", 3.5),)),
    # --- DigitalOcean, Heroku, IBM, Yandex, Scaleway, smaller clouds --------------------------------
    tok("DigitalOceanToken", "dop_v1_", r"dop_v1_[a-f0-9]{64}"),
    tok("DigitalOceanToken", "doo_v1_", r"doo_v1_[a-f0-9]{64}"),
    tok("DigitalOceanToken", "dor_v1_", r"dor_v1_[a-f0-9]{64}"),
    tok("HerokuAPIKey", "HRKU-", r"HRKU-[A-Za-z0-9_\-]{60}"),
    kw(("heroku_api_key", "heroku_api_token", "heroku_oauth_token", "heroku", "heroku_auth_token"),
       (("HerokuAPIKey", UUID, 3.0), ("HerokuAPIKey", r"HRKU-[A-Za-z0-9_\-]{60}", 3.0))),
    kw(("ibmcloud_api_key", "ibm_cloud_api_key", "ic_api_key", "ibm_api_key", "ibmcloud_apikey"),
       (("IBMCloudAPIKey", r"[A-Za-z0-9_\-]{44}", 4.0),)),
    tok("YandexAPIKey", "AQVN", r"AQVN[A-Za-z0-9_\-]{35,38}", min_entropy=3.5),
    tok("YandexAccessKey", "YCAJ", r"YCAJ[A-Za-z0-9_\-]{35}", min_entropy=3.5),
    tok("YandexIAMToken", "t1.", r"t1\.[A-Za-z0-9_\-]{8,}={0,2}\.[A-Za-z0-9_\-]{86}={0,2}"),
    tok("ScalewayAccessKey", "SCW", r"SCW[A-Z0-9]{17}", min_entropy=3.0),
    kw(("scw_secret_key", "scaleway_secret_key", "scaleway"), (("ScalewaySecretKey", UUID, 3.0),)),
    kw(("linode_token", "linode_api_token", "linode_cli_token", "linode"), (("LinodeToken", r"[0-9a-f]{64}", 3.0),)),
    kw(("vultr_api_key", "vultr"), (("VultrAPIKey", r"[A-Z0-9]{36}", 3.5),)),
    kw(("hcloud_token", "hetzner_token", "hetzner_api_token", "hcloud"), (("HetznerToken", r"[A-Za-z0-9]{64}", 4.0),)),
    kw(("civo_token", "civo_api_key", "civo"), (("CivoAPIKey", r"[A-Za-z0-9]{50}", 4.0),)),
    tok("ExoscaleAPIKey", "EXO", r"EXO[a-f0-9]{24}", min_entropy=3.0),
    kw(("ovh_application_secret", "ovh_consumer_key", "ovh_secret"), (("OVHSecret", r"[A-Za-z0-9]{32}", 3.5),)),
    # --- platforms -----------------------------------------------------------------------------
    tok("FlyIOToken", "fo1_", r"fo1_[A-Za-z0-9_\-]{43}"),
    tok("FlyIOToken", "fm1a_", r"fm1a_[A-Za-z0-9+/]{100,}={0,3}", after=B64_CHARS),
    tok("FlyIOToken", "fm1r_", r"fm1r_[A-Za-z0-9+/]{100,}={0,3}", after=B64_CHARS),
    tok("FlyIOToken", "fm2_", r"fm2_[A-Za-z0-9+/]{100,}={0,3}", after=B64_CHARS),
    tok("VercelToken", b"vc[pikar]_", r"vc[pikar]_[A-Za-z0-9]{24,}", back=4, min_entropy=3.5),
    kw(("vercel_token", "vercel_api_token", "vercel_access_token"), (("VercelToken", r"[A-Za-z0-9]{24}", 3.5),)),
    tok("NetlifyToken", "nfp_", r"nfp_[A-Za-z0-9]{36}"),
    kw(("netlify_auth_token", "netlify_token", "netlify"), (("NetlifyToken", r"[A-Za-z0-9_\-]{40,46}", 3.5),)),
    tok("RenderAPIKey", "rnd_", r"rnd_[A-Za-z0-9]{32}"),
    tok("SupabaseToken", "sbp_", r"sbp_[a-f0-9]{40}"),
    tok("SupabaseToken", "sb_secret_", r"sb_secret_[A-Za-z0-9_\-]{20,}"),
    tok("DatabricksToken", "dapi", r"dapi[a-f0-9]{32}(?:-[0-9])?", min_entropy=3.0),
    tok("PlanetScaleToken", "pscale_tkn_", r"pscale_tkn_[A-Za-z0-9_=.\-]{32,64}"),
    tok("PlanetScaleToken", "pscale_oauth_", r"pscale_oauth_[A-Za-z0-9_=.\-]{32,64}"),
    tok("PlanetScalePassword", "pscale_pw_", r"pscale_pw_[A-Za-z0-9_=.\-]{32,64}"),
    tok("NeonAPIKey", "napi_", r"napi_[a-z0-9]{64}"),
    tok("TailscaleKey", "tskey-", r"tskey-(?:api|auth|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}"),
    tok("CloudflareOriginCAKey", "v1.0-", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    kw(
        ("cloudflare_api_token", "cf_api_token", "cloudflare_token", "cloudflare", "cf_token"),
        (("CloudflareAPIToken", r"[A-Za-z0-9_\-]{40}", 3.5), ("CloudflareAPIKey", r"[a-f0-9]{37}", 3.0)),
    ),
    kw(("cf_api_key", "cloudflare_api_key", "x-auth-key"), (("CloudflareAPIKey", r"[a-f0-9]{37}", 3.0),)),
    tok("OpenShiftToken", "sha256~", r"sha256~[A-Za-z0-9_\-]{43}"),
    tok("DockerSwarmToken", "SWMTKN-1-", r"SWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25}"),
    tok("DockerSwarmToken", "SWMKEY-1-", r"SWMKEY-1-[A-Za-z0-9+/]{43}"),
)

