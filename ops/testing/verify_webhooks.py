"""Verifies webhook requests with the standardwebhooks package (PyPI), an implementation of the
Standard Webhooks specification that is not Mailfleet's. Reads {"secret", "requests": [{"id",
"timestamp", "signature", "body"}]} on stdin; prints a JSON list of booleans, one per request."""
import json
import sys

from standardwebhooks.webhooks import Webhook

data = json.load(sys.stdin)
verdicts = []
for r in data["requests"]:
    try:
        Webhook(data["secret"]).verify(
            r["body"], {"webhook-id": r["id"], "webhook-timestamp": r["timestamp"], "webhook-signature": r["signature"]})
        verdicts.append(True)
    except Exception as error:  # the library raises its own errors for each refusal
        sys.stderr.write("%s\n" % error)
        verdicts.append(False)
print(json.dumps(verdicts))
