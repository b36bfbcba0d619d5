"""Writes items into a directory the way aws-vault's file store does (its keyring library through
jose2go): one compact JWE per key, PBES2-HS256+A128KW with the passphrase and A256GCM, the file
named after the key with `%` and `/` percent-encoded. For tests/cli/import_aws_vault.rs.

Usage: python aws_vault_file_store.py DIR PASSPHRASE < {"KEY": {item JSON}, ...}
"""

import json
import os
import sys

from jwcrypto import jwe, jwk


def main():
    directory, passphrase = sys.argv[1], sys.argv[2]
    items = json.load(sys.stdin)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = jwk.JWK.from_password(passphrase)
    for name, item in items.items():
        token = jwe.JWE(
            json.dumps(item).encode(),
            protected=json.dumps(
                {
                    "alg": "PBES2-HS256+A128KW",
                    "enc": "A256GCM",
                    "p2c": 8192,
                    "created": "2024-01-02 03:04:05.678 +0000 UTC",
                }
            ),
        )
        token.add_recipient(key)
        file_name = name.replace("%", "%25").replace("/", "%2F")
        path = os.path.join(directory, file_name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(token.serialize(compact=True))


main()
