"""A trial that reports a digest of the secret it was given (never the secret itself), so a
test can tell that the variable reached it without the value entering any output."""

import hashlib
import os

value = os.environ.get("API_TOKEN", "")
extra = os.environ.get("DB_URL_FOR_TRIAL", "")
seen = hashlib.sha256((value + "|" + extra).encode()).hexdigest()[:12]
print(f"loss={len(value)}")
print(f"saw={seen}")
