"""Made-up credentials of every kind the scrubber knows, for tests that plant them in shared files.

None is real: each only has the right shape. `PLANTED[kind]` is `(text as it appears in a
file or an output, the secret part that must vanish)`; `KEEP` is ordinary text around them
that must survive word for word (ids, a digest, a path, words close to secret names)."""

from __future__ import annotations

PEM_BODY = "MIIEowIBAAKCAQEAplantedFAKE0123456789\nabcdefghijklmnopqrstuvwxyzPLANTED9+/=="

PLANTED: dict[str, tuple[str, str]] = {
    "anthropic": ("key sk-ant-api03-PlantedAnthropic0123456789", "PlantedAnthropic0123456789"),
    "ghp": ("ghp_PlantedGhp0123456789abcdefghijklmnopq", "PlantedGhp0123456789"),
    "gho": ("gho_PlantedGho0123456789abcdefghijklmnopq", "PlantedGho0123456789"),
    "ghu": ("ghu_PlantedGhu0123456789abcdefghijklmnopq", "PlantedGhu0123456789"),
    "ghs": ("ghs_PlantedGhs0123456789abcdefghijklmnopq", "PlantedGhs0123456789"),
    "ghr": ("ghr_PlantedGhr0123456789abcdefghijklmnopq", "PlantedGhr0123456789"),
    "github_pat": ("github_pat_11PLANTED0_PlantedFineGrained0123456789abcdefghij", "PlantedFineGrained0123"),
    "aws_access_key": ("AKIAPLANTED012345678", "AKIAPLANTED012345678"),
    "aws_session_key": ("ASIAPLANTED987654321", "ASIAPLANTED987654321"),
    "aws_secret": ("aws_secret_access_key = PlantedAwsSecret/0123456789+abcdefghijklm",
                   "PlantedAwsSecret/0123456789"),
    "slack": ("xoxb-123456789012-PlantedSlackBot0123", "PlantedSlackBot0123"),
    "private_key": (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
                    "AplantedFAKE0123456789"),
    "url_password": ("git clone https://alice:PlantedUrlPassw0rd@git.example.com/team/repo.git",
                     "PlantedUrlPassw0rd"),
    "authorization": ("Authorization: Token PlantedHeaderValue0123", "PlantedHeaderValue0123"),
    "bearer": ("sent with Bearer PlantedBearer.0123456789abcdef", "PlantedBearer.0123456789"),
    "password": ("DB_PASSWORD=PlantedDbPassw0rd!", "PlantedDbPassw0rd"),
    "json_key": ('{"client_secret": "Planted client secret 0123"}', "Planted client secret 0123"),
}
KEEP = ("Kept: session sesn_01KeepThisId file file_011KeepThisFile tokens: 12, Basic building blocks, sha256 "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, /mnt/session/outputs/keep.md")
ALL_PLANTED = "\n".join([KEEP, *(text for text, _ in PLANTED.values()), KEEP])


def leaked(text: str) -> list[str]:
    """The kinds whose secret part is still in `text`."""
    return [kind for kind, (_, secret) in PLANTED.items() if secret in text]
