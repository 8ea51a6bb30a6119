"""The introduction /api/docs opens with: written for the integrator who reads it first."""

INTRODUCTION = """
Traveler's JSON API: what the shop-floor tablets use, and what a legacy MES, an ERP or a script uses to
release work, record results and trace parts.

## Authenticate

Ask an administrator for a token for your integration's user (the key is shown once; only its hash is
kept; every call is then recorded under that user):

    python manage.py api_token issue legacy-mes --name "legacy MES adapter" --by admin

and send it on every request:

    Authorization: Bearer trv_…

The token's user needs the permissions of what it does (e.g. the *Operator* group to record values). A
signature (`…/sign`, `…/signoff`, `…/disposition`) also needs the signer's own secret in the body: the first
signing of a token needs `username` and `secret` (password or signing PIN), later ones the `secret`
(21 CFR 11.200). Pages in the browser use the session and send the CSRF token as `X-CSRFToken`.

## Main calls

| to | call |
| --- | --- |
| push work orders from the legacy MES (B2MML, CSV or JSON) | `POST /api/integrations/{adapter}/work-orders` |
| release travelers for a work order | `POST /api/work-orders/{number}/travelers` |
| a work center's queue | `GET /api/work-centers/{site}/{code}/travelers` |
| a traveler, its steps, limits and values | `GET /api/travelers/{number}` |
| start a step | `POST /api/travelers/{number}/steps/{sequence}/start` |
| record a value, or a step's values at once | `POST …/steps/{sequence}/measurements`, `…/measurements/batch` |
| sign a step | `POST …/steps/{sequence}/sign` |
| holds and nonconformances | `POST /api/travelers/{number}/hold`, `/api/holds/{id}/release`, `…/ncrs` |
| trace a serial or lot, where-used, recall | `GET /api/trace/unit`, `/api/trace/search`, `/api/trace/recall` |
| events Traveler publishes, as JSON Schemas | `GET /api/schemas/` |

## Retries and errors

Send an `Idempotency-Key` header (any unique string, e.g. a UUID) on every POST: a retry after a lost
answer is then done once and answered as the first time. Writes that change a step may carry the
`expected_version` you read, and a stale one is refused with 409 instead of overwriting.

Every error has one body, `{"error": {"code": "…", "message": "…", "field": "…"}}`: `code` is stable
(snake_case, safe to branch on), `message` a sentence for people, `field` the input it concerns or null;
malformed input (422) also lists every problem under `details`. 503 with `Retry-After` means the database
is unreachable for a moment: retry later with the same `Idempotency-Key`.
"""
