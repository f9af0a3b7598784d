"""Source hosts, package registries, CI/CD and infrastructure tooling: GitLab (the prefixes the
older GitLab rule does not know), Bitbucket, npm, PyPI, NuGet, Docker, Artifactory / JFrog,
Sourcegraph, RubyGems, crates.io, Clojars, CircleCI, Buildkite, Travis, Drone, Jenkins,
TeamCity, Octopus Deploy, Harness, Gitea, Snyk, SonarQube, Codecov, HashiCorp Vault and
Terraform Cloud, Doppler, Pulumi, Infracost, Prefect, ReadMe, Scalingo, Deno Deploy and
1Password.  Every type here is in the ``DevToolToken`` toggle except ``GitLabToken``.
"""

from __future__ import annotations

import base64
import binascii
import re

from ._common import Rule
from ._tokens import B64_CHARS, UUID, kw, tok


def _basic_pair(v: str) -> bool:
    """A base64 ``user:password`` pair (Docker config ``auth``, npm ``_auth``)."""
    try:
        raw = base64.b64decode(v + "=" * (-len(v) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw and all(32 <= b < 127 for b in raw)


RULES: tuple[Rule, ...] = (
    # --- GitLab: prefixes beyond glpat-/gldt-/... of the base rule -------------------------------
    # routable tokens end in ".<2><7>" (the base rule stops at the dot and would leave that tail)
    *(tok("GitLabToken", p, re.escape(p) + r"[A-Za-z0-9_\-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}") for p in ("glpat-", "glrt-")),
    tok("GitLabToken", "glffct-", r"glffct-[A-Za-z0-9_\-]{20,}"),
    tok("GitLabToken", "GR1348941", r"GR1348941[A-Za-z0-9_\-]{20,}"),
    tok("GitLabToken", "_gitlab_session=", r"_gitlab_session=([0-9a-z]{32})", group=1, before=None),
    # --- Bitbucket -------------------------------------------------------------------------------
    tok("BitbucketToken", "ATBB", r"ATBB[A-Za-z0-9_=.\-]{28,}", min_entropy=3.5),
    tok("BitbucketToken", "ATCTT3xFfGN0", r"ATCTT3xFfGN0[A-Za-z0-9_=\-]{100,}"),
    kw(("bitbucket_client_secret", "bitbucket_secret", "bitbucket_app_password", "bitbucket_password", "bitbucket_token"),
       (("BitbucketToken", r"[A-Za-z0-9_=\-]{64}", 3.5), ("BitbucketToken", r"[A-Za-z0-9]{20,32}", 3.5))),
    # --- npm, PyPI, NuGet, RubyGems, crates.io, Clojars ------------------------------------------
    tok("NpmToken", "npm_", r"npm_[A-Za-z0-9]{36}"),
    kw(("_authtoken",), (("NpmToken", r"npm_[A-Za-z0-9]{36}", 0.0), ("NpmToken", UUID, 3.0),
                         ("NpmToken", r"[A-Za-z0-9_\-+/=.]{20,}", 3.5))),
    tok("NpmToken", b"_auth[ \t]*=[ \t]*", r"_auth[ \t]*=[ \t]*([A-Za-z0-9+/]{8,}={0,2})", som=True, group=1,
        check=_basic_pair, before=frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), after=B64_CHARS),
    tok("PyPIToken", "pypi-AgEIcHlwaS5vcmc", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"),
    tok("PyPIToken", "pypi-AgENdGVzdC5weXBpLm9yZw", r"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{50,}"),
    tok("NuGetPassword", 'key="ClearTextPassword"', r'key="ClearTextPassword"[ \t]+value="([^"\r\n]+)"', group=1,
        caseless=True, before=None, after=None),
    tok("NuGetPassword", 'key="Password"', r'key="Password"[ \t]+value="([^"\r\n]+)"', group=1,
        caseless=True, before=None, after=None),
    tok("NuGetAPIKey", b"oy2[a-z0-9]{43}", r"oy2[a-z0-9]{43}", back=46, min_entropy=3.5),
    tok("RubyGemsToken", "rubygems_", r"rubygems_[a-f0-9]{48}"),
    tok("CratesIOToken", "cio", r"cio[A-Za-z0-9]{32}", min_entropy=4.0),
    tok("ClojarsToken", "CLOJARS_", r"CLOJARS_[A-Za-z0-9]{60}", caseless=True),
    # --- Docker ----------------------------------------------------------------------------------
    tok("DockerConfigAuth", '"auth":', r'"auth":[ \t]*"([A-Za-z0-9+/]{8,}={0,2})"', group=1, check=_basic_pair,
        before=None, after=None),
    tok("DockerConfigAuth", '\\"auth\\":', r'\\"auth\\":[ \t]*\\"([A-Za-z0-9+/]{8,}={0,2})\\"', group=1,
        check=_basic_pair, before=None, after=None),
    tok("DockerConfigAuth", '"identitytoken":', r'"identitytoken":[ \t]*"([^"\s]{16,})"', group=1, before=None, after=None),
    tok("DockerHubToken", "dckr_pat_", r"dckr_pat_[A-Za-z0-9_\-]{27}"),
    tok("DockerHubToken", "dckr_oat_", r"dckr_oat_[A-Za-z0-9_\-]{32}"),
    # --- Artifactory / JFrog, Sourcegraph --------------------------------------------------------
    tok("ArtifactoryToken", "AKCp", r"AKCp[A-Za-z0-9]{69}", min_entropy=4.0),
    tok("ArtifactoryToken", "cmVmd", r"cmVmd[A-Za-z0-9]{59}", min_entropy=4.0),
    kw(("jfrog", "artifactory", "x-jfrog-art-api", "artif-key"),
       (("ArtifactoryToken", r"[A-Za-z0-9]{73}", 4.0), ("ArtifactoryToken", r"[A-Za-z0-9]{64}", 4.0),
        # Artifactory API keys and encrypted passwords as Artifactory prints them
        ("ArtifactoryToken", r"AKC[A-Za-z0-9]{10,}", 0.0), ("ArtifactoryToken", r"AP[0-9A-F][A-Za-z0-9]{8,}", 0.0))),
    tok("SourcegraphToken", "sgp_", r"sgp_(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40}"),
    kw(("sourcegraph_token", "src_access_token", "sourcegraph"), (("SourcegraphToken", r"[a-fA-F0-9]{40}", 3.0),)),
    tok("SourcegraphToken", "sgph_", r"sgph_[a-fA-F0-9]{16}_[a-fA-F0-9]{40}"),
    # --- CI/CD -----------------------------------------------------------------------------------
    tok("CircleCIToken", "CCIPAT_", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"),
    tok("CircleCIToken", "CCIPRJ_", r"CCIPRJ_[A-Za-z0-9]{22}_[a-f0-9]{40}"),
    kw(("circle_token", "circleci_token", "circle-token"), (("CircleCIToken", r"[a-f0-9]{40}", 3.0),)),
    tok("BuildkiteToken", "bkua_", r"bkua_[a-f0-9]{40}"),
    kw(("buildkite_agent_token", "buildkite_token"), (("BuildkiteToken", r"[a-z0-9]{50}", 3.5), ("BuildkiteToken", r"bkua_[a-f0-9]{40}", 0.0))),
    kw(("travis_token", "travis_api_token", "travis"), (("TravisCIToken", r"[A-Za-z0-9]{22}", 3.5),)),
    kw(("drone_token", "droneci", "drone_server_token"), (("DroneCIToken", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("jenkins_api_token", "jenkins_token", "jenkins"), (("JenkinsToken", r"11[0-9a-f]{32}", 3.0),)),
    tok("TeamCityToken", "eyJ0eXAiOiAiVENWMiJ9", r"eyJ0eXAiOiAiVENWMiJ9\.[A-Za-z0-9_\-]{36}\.[A-Za-z0-9_\-]{48}"),
    tok("OctopusAPIKey", "API-", r"API-[A-Z0-9]{26}", min_entropy=3.5),
    tok("HarnessToken", b"(?:pat|sat)\\.[A-Za-z0-9_\\-]{22}\\.", r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}", back=27),
    kw(("gitea_token", "gitea_access_token", "forgejo_token", "gitea"), (("GiteaToken", r"[0-9a-f]{40}", 3.0),)),
    kw(("snyk_token", "snyk_api_token", "snyk_api_key", "snyk_oauth_token"), (("SnykToken", UUID, 3.0),)),
    tok("SonarQubeToken", b"sq[upa]_", r"sq[upa]_[a-f0-9]{40}", back=4),
    kw(("sonar_token", "sonar.login", "sonar_login", "sonar.token"), (("SonarQubeToken", r"[a-f0-9]{40}", 3.0),)),
    kw(("codecov_token", "codecov"), (("CodecovToken", UUID, 3.0), ("CodecovToken", r"[a-f0-9]{32}", 3.0))),
    # --- HashiCorp, Doppler, Pulumi, infrastructure tools ---------------------------------------
    tok("VaultToken", "hvs.", r"hvs\.[A-Za-z0-9_\-]{24,}", min_entropy=3.5),
    tok("VaultToken", "hvb.", r"hvb\.[A-Za-z0-9_\-]{24,}", min_entropy=3.5),
    tok("VaultToken", "hvr.", r"hvr\.[A-Za-z0-9_\-]{24,}", min_entropy=3.5),
    kw(("vault_token", "x-vault-token", "vault-token", "vault_root_token", "vault_client_token", "client_token"),
       (("VaultToken", r"[sbr]\.[A-Za-z0-9]{24}", 3.0), ("VaultToken", r"hv[sbr]\.[A-Za-z0-9_\-]{24,}", 0.0))),
    kw(("consul_http_token", "x-consul-token", "consul_token", "nomad_token", "x-nomad-token"),
       (("ConsulNomadToken", UUID, 3.0),)),
    tok("TerraformCloudToken", ".atlasv1.", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}", back=23),
    tok("DopplerToken", b"dp\\.(?:pt|st|ct|sa|scim|audit)\\.", r"dp\.(?:pt|st|ct|sa|scim|audit)\.(?:[a-z0-9_]{1,32}\.)?[A-Za-z0-9]{40,44}", som=True),
    tok("PulumiToken", "pul-", r"pul-[a-f0-9]{40}"),
    tok("InfracostToken", "ico-", r"ico-[A-Za-z0-9]{32}"),
    tok("PrefectToken", "pnu_", r"pnu_[A-Za-z0-9]{36}"),
    tok("ReadMeToken", "rdme_", r"rdme_[a-z0-9]{70}"),
    tok("ScalingoToken", "tk-us-", r"tk-us-[A-Za-z0-9_\-]{48}"),
    tok("DenoDeployToken", b"dd[pw]_", r"dd[pw]_[A-Za-z0-9]{36}", back=4),
    tok("OnePasswordSecretKey", "A3-", r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
    tok("OnePasswordToken", "ops_eyJ", r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}", after=B64_CHARS),
)
