"""Settings, all from the environment: safe local defaults, and a fast failure in production."""

from __future__ import annotations

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# "local" runs against the embedded stack (devstack/); "production" is AWS (Zappa sets it).
IMAGEEDIT_ENV = env.str("IMAGEEDIT_ENV", default="local")
if IMAGEEDIT_ENV not in ("local", "production"):
    raise ImproperlyConfigured("IMAGEEDIT_ENV must be 'local' or 'production'.")
IS_PRODUCTION = IMAGEEDIT_ENV == "production"


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def required(name: str, local_default: str) -> str:
    """Read a setting that production must set explicitly; locally fall back to the dev stack's value."""
    value = env.str(name, default="")
    if value:
        return value
    if IS_PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    return local_default


DEBUG = env.bool("DJANGO_DEBUG", default=not IS_PRODUCTION)
SECRET_KEY = required("DJANGO_SECRET_KEY", "local-only-insecure-secret-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["127.0.0.1", "localhost"])
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "editor",
]

MIDDLEWARE = [
    "editor.middleware.RequestContextMiddleware",
    "editor.middleware.EncodedPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "editor.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "editor.middleware.ContentSecurityPolicyMiddleware",
    "editor.middleware.NoStoreApiMiddleware",
]

ROOT_URLCONF = "imageedit.urls"
WSGI_APPLICATION = "imageedit.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "editor.context_processors.signed_in_user",
            ],
        },
    }
]

# No relational database: Lambda containers share nothing, so state lives in DynamoDB and S3.
DATABASES: dict = {}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# No collectstatic step: WhiteNoise serves straight from the app folders (and STATIC_ROOT stays unset,
# so it does not look for a collected folder that a Zappa package never has).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# WhiteNoise would add `Access-Control-Allow-Origin: *` to every static file; no other site needs them.
WHITENOISE_ALLOW_ALL_ORIGINS = False

# --- AWS -------------------------------------------------------------------------------------------
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
# Empty in AWS; the local stack points these at moto and at the local Bedrock-compatible engine.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or None
BEDROCK_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", default="") or None
# Said, never inferred from the endpoint: a VPC or FIPS endpoint of the real Bedrock is an endpoint too.
# The local stack sets it; with it the tasks the local engine cannot do are refused up front.
BEDROCK_LOCAL_ENGINE = env.bool("BEDROCK_LOCAL_ENGINE", default=False)
if IS_PRODUCTION and BEDROCK_LOCAL_ENGINE:
    raise ImproperlyConfigured("BEDROCK_LOCAL_ENGINE is for the local stack; unset it in production.")

DYNAMODB_TABLE = env.str("DYNAMODB_TABLE", default="ImageGenerationTable")
SESSION_TABLE = env.str("SESSION_TABLE", default="ImageEditSessionTable")
S3_BUCKET = required("S3_BUCKET", "imageedit-local")
PRESIGNED_URL_TTL_SECONDS = env.int("PRESIGNED_URL_TTL_SECONDS", default=300)

COGNITO_USER_POOL_ID = required("COGNITO_USER_POOL_ID", "")
COGNITO_APP_CLIENT_ID = required("COGNITO_APP_CLIENT_ID", "")
# The issuer is the AWS string inside the tokens; the JWKS URL is where the keys are fetched from.
# They differ on the local stack, which serves the JWKS itself.
COGNITO_ISSUER = env.str("COGNITO_ISSUER", default="")
COGNITO_JWKS_URL = env.str("COGNITO_JWKS_URL", default="")
JWKS_FETCH_TIMEOUT_SECONDS = env.float("JWKS_FETCH_TIMEOUT_SECONDS", default=3.0)
JWKS_MIN_REFETCH_SECONDS = env.float("JWKS_MIN_REFETCH_SECONDS", default=10.0)
ACCESS_TOKEN_MAX_BYTES = 8192

# --- Edits ---------------------------------------------------------------------------------------
BEDROCK_DEFAULT_FAMILY = env.str("BEDROCK_DEFAULT_FAMILY", default="stability")
# Override any model id, e.g. {"stability.inpaint": "us.stability.stable-image-inpaint-v1:0"}.
BEDROCK_MODEL_IDS = env.json("BEDROCK_MODEL_IDS", default={})
# "us" calls Stability's image services through the us.* cross-region inference profiles (needed outside
# us-west-2); empty calls the model ids directly.
BEDROCK_INFERENCE_PROFILE_PREFIX = env.str("BEDROCK_INFERENCE_PROFILE_PREFIX", default="")
BEDROCK_CONNECT_TIMEOUT_SECONDS = env.float("BEDROCK_CONNECT_TIMEOUT_SECONDS", default=5)
BEDROCK_READ_TIMEOUT_SECONDS = env.float("BEDROCK_READ_TIMEOUT_SECONDS", default=120)
BEDROCK_MAX_ATTEMPTS = env.int("BEDROCK_MAX_ATTEMPTS", default=2)
# Published end-of-life dates (YYYY-MM-DD) for models whose control-plane answer carries none: from that
# day the model counts as retired (its tasks go to Stability or are refused with a 410). A date the control
# plane gives wins. Titan's is AWS's own; Nova Canvas's is from third-party pages (checked 2026-11).
BEDROCK_END_OF_LIFE = env.json(
    "BEDROCK_END_OF_LIFE",
    default={"amazon.titan-image-generator-v2:0": "2026-06-30", "amazon.nova-canvas-v1:0": "2026-09-30"},
)
if not isinstance(BEDROCK_END_OF_LIFE, dict) or not all(
    isinstance(date, str) and _is_date(date) for date in BEDROCK_END_OF_LIFE.values()
):
    raise ImproperlyConfigured(
        'BEDROCK_END_OF_LIFE must map model ids to dates: {"<model id>": "YYYY-MM-DD"}.'
    )
# How long a model's lifecycle (Bedrock's GetFoundationModel) is trusted before asking again.
BEDROCK_LIFECYCLE_CACHE_SECONDS = env.int("BEDROCK_LIFECYCLE_CACHE_SECONDS", default=6 * 3600)
# The job runs inside one Lambda invocation: all Bedrock attempts must end before it is killed.
EDIT_JOB_TIMEOUT_SECONDS = env.int("EDIT_JOB_TIMEOUT_SECONDS", default=300)
if BEDROCK_READ_TIMEOUT_SECONDS * BEDROCK_MAX_ATTEMPTS + 30 > EDIT_JOB_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "BEDROCK_READ_TIMEOUT_SECONDS x BEDROCK_MAX_ATTEMPTS must leave 30 s of EDIT_JOB_TIMEOUT_SECONDS."
    )
# A PENDING edit whose job has not started by then (a lost async invocation) is recorded as timed out.
EDIT_PENDING_TIMEOUT_SECONDS = env.int("EDIT_PENDING_TIMEOUT_SECONDS", default=900)
# How long POST /edits waits for the result before answering 202; API Gateway cuts at 29 s.
EDIT_WAIT_DEFAULT_SECONDS = env.float("EDIT_WAIT_DEFAULT_SECONDS", default=20)
EDIT_WAIT_MAX_SECONDS = 25
DAILY_EDIT_QUOTA = env.int("DAILY_EDIT_QUOTA", default=200)
# Estimated spend (USD, prices in editor/services/bedrock/pricing.py) a person may admit per UTC day, and the
# whole deployment per UTC month; an empty value means no cap.
DAILY_BUDGET_USD = float(env.str("DAILY_BUDGET_USD", default="20") or "inf")
MONTHLY_BUDGET_USD = float(env.str("MONTHLY_BUDGET_USD", default="1000") or "inf")
EDIT_WORKER_THREADS = env.int("EDIT_WORKER_THREADS", default=4)
# Batches (docs/batches.md): the SQS queue their items go through (the stack's BatchQueueUrl output; empty
# turns batches off), the most items one batch may hold, and the queue's maxReceiveCount (the stack's
# BatchMaxReceiveCount): the attempt that reaches it records its item FAILED before the DLQ takes it.
BATCH_QUEUE_URL = env.str("BATCH_QUEUE_URL", default="")
BATCH_DLQ_URL = env.str("BATCH_DLQ_URL", default="")  # the stack's BatchDeadLetterQueueUrl output
BATCH_MAX_ITEMS = env.int("BATCH_MAX_ITEMS", default=10_000)
BATCH_MAX_RECEIVES = env.int("BATCH_MAX_RECEIVES", default=5)
# A worker invocation takes its messages one after another; one that has less time left than this hands
# the rest back to the queue (they come back after the visibility timeout) instead of being cut off.
BATCH_ITEM_RESERVE_SECONDS = env.int("BATCH_ITEM_RESERVE_SECONDS", default=150)
# A batch item still PENDING or RUNNING this long after it started is recorded timed out by the sweep:
# by then its queue has made every delivery (visibility timeout 1,800 s x 5 receives, and a margin).
BATCH_ITEM_STALE_SECONDS = env.int("BATCH_ITEM_STALE_SECONDS", default=6 * 1800)

# --- Security --------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_ENGINE = "editor.sessions"
# Lambda takes at most 6 MB per synchronous request, and API Gateway base64-encodes binary bodies.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=4 * 1024 * 1024)
# Image and mask together: 4.4 MB grows to ~5.9 MB in base64, just inside Lambda's 6 MB.
MAX_REQUEST_UPLOAD_BYTES = env.int("MAX_REQUEST_UPLOAD_BYTES", default=4_400_000)
# Photos (sent in the request up to MAX_UPLOAD_BYTES, or straight to S3 with a presigned POST) are
# edited at full resolution up to these; the models see what fits them (editor/services/imaging/regions.py).
# Pillow's own decompression-bomb check is a backstop at twice MAX_PHOTO_PIXELS.
MAX_PHOTO_BYTES = env.int("MAX_PHOTO_BYTES", default=50 * 1000 * 1000)
MAX_PHOTO_PIXELS = env.int("MAX_PHOTO_PIXELS", default=100_000_000)
UPLOAD_POST_TTL_SECONDS = env.int("UPLOAD_POST_TTL_SECONDS", default=300)
# How long an upload can be used by edits after it was stored; the bucket's lifecycle rule (one day) and
# the local sweep remove it after that.
UPLOAD_MAX_AGE_SECONDS = env.int("UPLOAD_MAX_AGE_SECONDS", default=24 * 3600)
# Mask-local tasks (inpaint, erase) send the model a crop: the mask's box plus this much context.
CROP_PADDING_FRACTION = env.float("CROP_PADDING_FRACTION", default=0.25)
CROP_PADDING_MIN_PX = env.int("CROP_PADDING_MIN_PX", default=64)
# The soft edge where the model's answer meets the original (Gaussian radius, full-resolution pixels).
COMPOSITE_FEATHER_PX = env.int("COMPOSITE_FEATHER_PX", default=6)
# A JPEG (or HEIC) photo's result is a JPEG at this quality; the stored output records it.
PHOTO_JPEG_QUALITY = env.int("PHOTO_JPEG_QUALITY", default=95)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Content Credentials (C2PA) on every result: signed by this KMS key (ECC_NIST_P256, SIGN_VERIFY) with this
# PEM certificate chain (the signer's certificate first; keep it in remote_env). See the README.
APP_VERSION = "0.1.0"
C2PA_KMS_KEY_ID = env.str("C2PA_KMS_KEY_ID", default="")
C2PA_CERT_CHAIN = env.str("C2PA_CERT_CHAIN", default="")
C2PA_TSA_URL = env.str("C2PA_TSA_URL", default="")
# "fail" (the safe default: nothing leaves unmarked) or "unsigned" (kept, and marked "not signed").
C2PA_ON_SIGNING_FAILURE = env.str("C2PA_ON_SIGNING_FAILURE", default="fail")
if C2PA_ON_SIGNING_FAILURE not in ("fail", "unsigned"):
    raise ImproperlyConfigured("C2PA_ON_SIGNING_FAILURE must be 'fail' or 'unsigned'.")
# A manifest is public wherever the image goes: prompts stay out of it unless this says otherwise.
C2PA_INCLUDE_PROMPT = env.bool("C2PA_INCLUDE_PROMPT", default=False)
# Set by the local stack: its certificate is a development one, and results say so.
C2PA_DEVELOPMENT = env.bool("C2PA_DEVELOPMENT", default=False)
# Whom the Content Credentials panel trusts. This deployment's own root (PEM); empty: the self-signed
# certificates of C2PA_CERT_CHAIN. And the C2PA trust list (a PEM bundle of its anchors, e.g. the C2PA
# conformance program's C2PA-TRUST-LIST.pem): signers under it are "C2PA-trusted"; others "unknown".
C2PA_DEPLOYMENT_ROOT_CERT = env.str("C2PA_DEPLOYMENT_ROOT_CERT", default="")
C2PA_TRUST_LIST_PATH = env.str("C2PA_TRUST_LIST_PATH", default="")
if C2PA_TRUST_LIST_PATH and not Path(C2PA_TRUST_LIST_PATH).is_file():
    raise ImproperlyConfigured(f"C2PA_TRUST_LIST_PATH: no file at {C2PA_TRUST_LIST_PATH}.")
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "editor.authentication.CognitoJWTAuthentication",
        "editor.authentication.CognitoSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's own, plus a 4xx for JSON nested too deeply and for JSON or form bodies over the cap.
    "DEFAULT_PARSER_CLASSES": [
        "editor.parsers.JSONParser",
        "editor.parsers.FormParser",
        "editor.parsers.MultiPartParser",
    ],
    # No django.contrib.auth: the user is whoever Cognito says the token belongs to.
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "editor.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "PREPROCESSING_HOOKS": [
        "editor.openapi.schema_hints_apply",
        "editor.urls.page_api.schema_without_web",
    ],
    "TITLE": "imageedit API",
    "DESCRIPTION": "Edit images with Amazon Bedrock image models. Authenticate with a Cognito access token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Document the one scheme API clients use (a Cognito access token), not the page's session class.
    "AUTHENTICATION_WHITELIST": [],
    "SECURITY": [{"cognitoAccessToken": []}],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "cognitoAccessToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A Cognito access token from POST /api/v1/auth/token.",
            }
        }
    },
}

# Import the URLconf and its views during start-up (see editor/apps.py); on in production for SnapStart.
WARM_ON_START = env.bool("IMAGEEDIT_WARM_ON_START", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "editor.log.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
        "devstack": {"level": "WARNING"},
    },
}

# --- Accounts --------------------------------------------------------------------------------------
# The bound on access that ends: a signed-out, disabled or deleted person's token is refused at most this
# long after the change (the app asks Cognito about each token at most once per interval).
TOKEN_STATE_CHECK_SECONDS = env.float("TOKEN_STATE_CHECK_SECONDS", default=30)
if not 0 <= TOKEN_STATE_CHECK_SECONDS <= 60:
    raise ImproperlyConfigured("TOKEN_STATE_CHECK_SECONDS must be between 0 and 60 (the stated bound).")
# While Cognito cannot answer, tokens are admitted on their signature and asked about again after this.
TOKEN_STATE_OUTAGE_RETRY_SECONDS = env.float("TOKEN_STATE_OUTAGE_RETRY_SECONDS", default=5)
# Failed sign-ins and account steps, counted in DynamoDB per username and per client address.
# Members of this Cognito group (infra/template.yaml's AdministratorsGroup) see the deployment's spend.
ADMINISTRATORS_GROUP = env.str("ADMINISTRATORS_GROUP", default="administrators")
AUTH_FAILURE_WINDOW_SECONDS = env.int("AUTH_FAILURE_WINDOW_SECONDS", default=900)
# Per (username, address): a named account cannot be locked out from elsewhere (docs/accounts-security.md).
AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = env.int("AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS", default=10)
AUTH_FAILURE_LIMIT_PER_ADDRESS = env.int("AUTH_FAILURE_LIMIT_PER_ADDRESS", default=50)
# The pool's password policy and sign-up setting (DescribeUserPool), cached this long per process.
USER_POOL_SETTINGS_CACHE_SECONDS = env.int("USER_POOL_SETTINGS_CACHE_SECONDS", default=300)
