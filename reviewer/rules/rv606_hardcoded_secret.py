"""RV606: a password, token or key written into the source."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import PyContext
from reviewer.rules import _cst
from reviewer.rules._dataflow import Flow, argument, calls, flow, keyword
from reviewer.rules._functions import parameter_defaults
from reviewer.rules.base import Invalid, Rule, Valid
from reviewer.sinks import Sink, catalogue

# The catalogue's kind this rule reads: credential parameters of common APIs.
KINDS = frozenset({"credential"})
# A URL or DSN with a password in it: scheme://user:password@host.
_DSN = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:([^\s@/?#]+)@[^\s/@]*")

# Name components that say "this holds a secret" (names are split at _ and camelCase).
_SECRET_WORD = re.compile(
    r"(?:^|_)(api_?key|access_?key|secret_?key|private_?key|auth_?key|signing_?key|"
    r"client_?secret|pas+wo?r?d|passwd|pass(?:phrase)?|pwd|token|secrete?)"
    r"(?=_|$)"
)
# A component after the secret word that makes the name describe it rather than hold it.
META_WORDS = frozenset(
    {
        "type", "types", "kind", "name", "names", "field", "fields", "key", "keys", "id", "ids",
        "label", "title", "description", "help", "text", "message", "msg", "prompt", "hint",
        "placeholder", "error", "errors", "url", "uri", "urls", "endpoint", "route", "path", "file",
        "filename", "files", "dir", "directory", "env", "envvar", "var", "variable", "header",
        "headers", "prefix", "suffix", "length", "len", "size", "min", "max", "count", "policy",
        "pattern", "regex", "re", "format", "fmt", "mode", "style", "attr", "attribute", "column",
        "col", "param", "parameter", "arg", "option", "template", "widget", "form", "input",
        "validator", "validators", "location", "method", "scheme", "scope", "scopes", "expiry",
        "expires", "expiration", "ttl", "timeout", "lifetime", "age", "reset", "changed",
        "required", "enabled", "disabled", "hash", "hashed", "salt", "encrypted", "storage",
        "backend", "provider", "source", "manager", "class", "view", "char", "chars", "characters",
        "reference", "ref", "index", "idx", "reason", "missing", "invalid", "incorrect",
        "mismatch", "button", "icon", "emoji"
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Values that cannot be a real secret: masks, templates, references, labels.
_PLACEHOLDER = re.compile(
    r"""^(?:[*xX•.#?_-]+|<[^<>]*>|\{\{.*\}\}|\$\{[^}]*\}|\$[A-Za-z_]\w*|%\(\w+\)[sd]|\{\w*\}
    |[^\s]*:|https?://[^@\s]*|/[^\s]*)$""",
    re.VERBOSE | re.DOTALL,
)
_TEMPLATE = re.compile(r"%(?:\(\w+\))?[sdr]|\{\w*\}")
# A word that says the value is made up (a fixture, an example, a redaction): it starts a
# word of the value, so ``"example-key"`` and ``"testpassword"`` match, ``"contest"`` not.
_MADE_UP = re.compile(
    r"(?<![a-z])(?:test|example|dummy|fake|sample|placeholder|redacted)", re.IGNORECASE
)
# What a token looks like: 8+ characters, no spaces, letters and digits.
_RANDOM = re.compile(r"^(?=\S*\d)(?=\S*[A-Za-z])\S{8,}$")
# Known credential formats, found in any string literal: (pattern, what it is).
TOKEN_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), what)
    for p, what in (
        (r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}\b", "an AWS access key id"),
        (r"\bgh[pousr]_[A-Za-z0-9]{36}\b", "a GitHub token"),
        (r"\bgithub_pat_[A-Za-z0-9_]{82}\b", "a GitHub fine-grained token"),
        (r"\bglpat-[A-Za-z0-9_-]{20}\b", "a GitLab token"),
        (r"\bxox[baprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
        (r"https://hooks\.slack\.com/services/T\w+/B\w+/\w+", "a Slack webhook URL"),
        (r"-----BEGIN (?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
         "a private key"),
        (r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key"),
        (r"\b[sr]k_live_[0-9a-zA-Z]{24,}\b", "a Stripe live key"),
        (r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}", "an OpenAI API key"),
        (r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}", "an Anthropic API key"),
        (r"\bnpm_[A-Za-z0-9]{36}\b", "an npm token"),
        (r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", "a PyPI token"),
        (r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", "a SendGrid API key"),
        (r"\bhf_[A-Za-z0-9]{34}\b", "a Hugging Face token"),
        (r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", "a Shopify access token"),
        (r"\bdo[por]_v1_[a-f0-9]{64}\b", "a DigitalOcean token"),
        (r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", "a Slack app token"),
        (r"\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}", "a Square access token"),
        (r"\bGOCSPX-[A-Za-z0-9_-]{28}", "a Google OAuth client secret"),
        (r"\bdapi[a-f0-9]{32}\b", "a Databricks token"),
        (r"AccountKey=[A-Za-z0-9+/]{86}==", "an Azure storage account key"),
    )
)

_ANY_TOKEN = re.compile("|".join(f"(?:{p.pattern})" for p, _ in TOKEN_FORMATS))


@lru_cache(maxsize=4096)
def secret_word(name: str) -> str | None:
    """The secret word a variable, attribute, key or parameter name holds (None: none).

    Names are split into words at ``_`` and camelCase humps; a name that also has a word
    describing the secret rather than holding it (``token_type``, ``PASSWORD_RESET_URL``,
    ``REASON_TOKEN_MISSING``) holds none.
    """
    snake = _CAMEL.sub("_", name).lower()
    matches = list(_SECRET_WORD.finditer(snake))
    if not matches:
        return None
    rest = _SECRET_WORD.sub("_", snake).split("_")
    if any(part in META_WORDS for part in rest):
        return None
    return matches[-1].group(1)


def placeholder(value: str, name: str, word: str) -> bool:
    """Values that are not secrets.

    Empty, masked (``****``), templates and references (``${X}``, ``<token>``, ``%(pw)s``),
    labels (``"Password:"``), paths and URLs without credentials, text without a letter or
    digit, the name itself (``PASSWORD = "password"``), values that say they are made up
    (a word starting with test, example, dummy, fake, sample, placeholder or redacted:
    ``"example-key"``, ``"testpassword"``; not ``"contest"``), and for tokens, anything that does
    not look random (lexer tokens such as ``token = "not in"``).
    """
    text = value.strip()
    if not text or _PLACEHOLDER.match(text) or _TEMPLATE.search(text):
        return True
    if not any(c.isascii() and c.isalnum() for c in text):
        return True
    norm = re.sub(r"[\W_]+", "", text).lower()
    if norm == re.sub(r"[\W_]+", "", name).lower():
        return True
    if _MADE_UP.search(_CAMEL.sub("_", text)):
        return True
    return word == "token" and not _RANDOM.match(text)


# Every format above holds a run of 20 token characters, or one of these markers: a string
# with neither (most docstrings and messages) is not searched for all of them.
_LONG_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")
_MARKERS = ("-----BEGIN", "AccountKey=", "hooks.slack")


# Around each long run, the text a token holding it can span (SendGrid's ``SG.`` before it,
# its ``.`` and 43 characters after it); in a long text only these windows are searched.
_BEFORE, _AFTER, _LONG_TEXT = 32, 64, 256


def known_token(value: str) -> str | None:
    """What kind of credential a string contains, by its published format (None: none)."""
    if "EXAMPLE" in value:  # AWS's documented examples
        return None
    if any(m in value for m in _MARKERS):
        texts = [value]
    elif len(value) <= _LONG_TEXT:
        texts = [value] if _LONG_RUN.search(value) else []
    else:  # a docstring or a message: search the windows around its long runs only
        texts = _windows(value)
    for text in texts:
        if _ANY_TOKEN.search(text):
            for pattern, what in TOKEN_FORMATS:
                if pattern.search(text):
                    return what
    return None


def _windows(value: str) -> list[str]:
    """The stretches of ``value`` around its runs of 20 or more token characters, merged
    where they overlap (each run is searched with the text a token may add around it)."""
    spans: list[list[int]] = []
    for m in _LONG_RUN.finditer(value):
        start, end = max(0, m.start() - _BEFORE), m.end() + _AFTER
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [value[a:b] for a, b in spans]


def _str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _target_name(node: ast.AST) -> str | None:
    """The name an assignment target or compared operand is known by."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _str(node.slice)
    return None


class HardcodedSecret(Rule):
    """A password, token or key is written into the source.

    A secret in the code is shared with everyone who can read the repository, its history,
    forks, packages and build logs, and cannot be rotated without a commit (CWE-798). Read
    it from the environment or a secret store.

    Reported: string literals bound to names that say they hold a secret (``password``,
    ``passwd``, ``pwd``, ``passphrase``, ``token``, ``secret``, ``api_key``, ``secret_key``,
    ``private_key``...) as variables, attributes, dict keys, keyword arguments, parameter
    defaults, or compared with ``==``; and, in any string, credentials in a known format
    (AWS key ids, GitHub/GitLab/Slack/npm/PyPI/Hugging Face/Shopify/DigitalOcean/Square/
    Databricks tokens, private key blocks, Google API keys and OAuth client secrets, Stripe,
    OpenAI, Anthropic, SendGrid and Azure storage keys). Not reported: names that describe
    a secret rather than hold it (``token_type``, ``password_field``,
    ``PASSWORD_RESET_URL``), empty or masked values (``""``, ``"****"``), templates and
    references (``"${TOKEN}"``, ``"<your token>"``), labels (``"Password:"``), a value
    equal to its own name (``PASSWORD = "password"``) and values that say they are
    made up (``"example-key"``, ``"fake-token-1"``, ``"testpassword"``: a word of the
    value starts with test, example, dummy, fake, sample, placeholder or redacted).
    Default credentials such as ``"changeme"`` are reported: they ship. Test files and
    ``test_*`` functions are exempt from the name-based check (fixtures use fake
    passwords) but not from the known-format check.

    Also reported, whatever the names: string literals given to the credential parameters
    of the sink catalogue (``reviewer/sinks.toml``, kind ``credential``; add your own
    with ``[[tool.reviewer.extra-sinks]]``): JWT ``encode``/``decode`` keys (PyJWT,
    python-jose), boto3 ``aws_secret_access_key``/``aws_session_token``, itsdangerous
    secret keys, hashids salts, ``HTTPBasicAuth``/``HTTPDigestAuth``, ``login(user, pw)``
    (smtplib, ftplib, imaplib...), ``ftplib.FTP``, LDAP ``simple_bind``,
    ``keyring.set_password``, the password of an ``auth=(user, password)`` pair given to
    an HTTP client's ``get``/``post``/... (requests, httpx) and ``httpx``/``aiohttp``
    ``BasicAuth``, and keys (also as bytes) given to ``hmac.new``/``digest``,
    ``Fernet`` and PyCryptodome's ``AES.new``; a name bound to one literal (a module
    constant, a local assigned once) counts as that literal, reported where it is written
    with the call as a related location; and URLs or DSNs with an inline password
    (``postgresql://app:PASSWORD@db/app`` with a real password in it; references such as
    ``${DB_PASSWORD}`` or ``{password}`` are placeholders). Framework ``SECRET_KEY``
    settings and ``app.config["SECRET_KEY"]`` are caught by name.
    ``os.environ.get("KEY", "dev")`` defaults are not literals bound to a name and stay
    quiet. An empty password given to a user's ``set_password("")`` (directly or through
    a local assigned just before) is reported, in test functions too: the account then
    logs in with no password (``set_unusable_password()`` is the way to have none).
    """

    id = "RV606"
    slug = "hardcoded-secret"
    principle = "least-privilege"
    severity = Severity.MEDIUM
    message = "A secret is written into the source; read it from the environment."
    counterparts = {"bandit": "B105, B106, B107", "ruff": "S105, S106, S107",
                    "gosec": "G101"}
    options = {"extra_sinks": ()}
    tags = ("security", "secrets", "external/cwe/cwe-798")
    fixable = True
    security_severity = 7.5
    VALID = [
        "import os\n\nPASSWORD = os.environ['DB_PASSWORD']\n",
        "token_type = 'bearer'\nPASSWORD_FIELD = 'password'\n",
        "password = ''\nsecret = '****'\napi_key = '${API_KEY}'\n",
        "class Fields:\n    PASSWORD = 'password'\n    TOKEN = 'token'\n",
        "def login(user, password=None):\n    return user, password\n",
        "def check(password):\n    if password == '':\n        raise ValueError('empty')\n",
        "def lex(token):\n    if token == 'not':\n        token = 'not in'\n    return token\n",
        "SET_PASSWORD = 'ALTER USER %(user)s IDENTIFIED BY \"%(password)s\"'\n",
        "prompt = {'password': 'Password:'}\n",
        "SMTP_PASSWORD = 'not-a-real-test-pw'\nAPI_KEY = 'exampleKey123'\n",
        Valid("def test_login(client):\n    client.login(password='hunter2')\n",
              path="tests/test_auth.py"),
        "import os, jwt\n\ndef sign(claims):\n"
        "    return jwt.encode(claims, os.environ['JWT_KEY'])\n",
        "import os\n\nSECRET_KEY = os.environ.get('SECRET_KEY', '')\n",
        "DATABASE_URL = 'postgresql://app:${DB_PASSWORD}@db/app'\n",
        "URL = 'https://user@example.com/path'\n",
        "HELP = 'a proxy in the form scheme://[user:passwd@]proxy.server:port'\n",
        "def test_login(user):\n    password = 'testpassword'\n    user.set_password(password)\n",
        "import os, smtplib\n\ns = smtplib.SMTP('mail')\n"
        "s.login('alerts', os.environ['SMTP_PW'])\n",
        "import hmac, os\n\ndef sign(msg):\n"
        "    return hmac.new(os.environb[b'KEY'], msg, 'sha256')\n",
        "def login(client, user, pw):\n    return client.login(user, pw)\n",
        "from huggingface_hub import hf_hub_download\n\npath = hf_hub_download('org/model')\n",
        "import boto3\n\ns3 = boto3.client('s3', region_name='eu-west-1')\n",
        "import os, requests\n\ndef fetch(url):\n"
        "    return requests.get(url, auth=('deploy', os.environ['DEPLOY_PW']))\n",
        "import os, jwt\n\nSIGNING = os.environ.get('SIGNING', '')\n\ndef token(claims):\n"
        "    return jwt.encode(claims, SIGNING, algorithm='HS256')\n",
        "def fetch(session, url, user, pw):\n    return session.get(url, auth=(user, pw))\n",
        Valid("import jwt\n\ndef test_sign():\n    assert jwt.encode({}, 'k', 'HS256')\n",
              path="tests/test_jwt.py"),
        "def lock(user):\n    user.set_unusable_password()\n    user.set_password(None)\n",
        "def reset(user, password):\n    password = ''\n    password = read_new()\n"
        "    user.set_password(password)\n",
        "import keyring\n\nkeyring.set_password('svc', 'me', '')\n",
        "def check(UserModel, user):\n    if user is None:\n"
        "        UserModel().set_password('')  # same timing as a real check\n",
    ]
    INVALID = [
        Invalid("DB_PASSWORD = 'hunter2'  # dev\n", line=1,
                fixed="import os\nDB_PASSWORD = os.environ['DB_PASSWORD']  # dev\n"),
        Invalid("import os\n\nclass Settings:\n    secret_key: str = 'django-insecure-abc123'\n",
                line=4, fixed="import os\n\nclass Settings:\n"
                "    secret_key: str = os.environ['SECRET_KEY']\n"),
        Invalid("def connect(host, password='admin'):\n    pass\n", line=1),
        Invalid("client = Client(user='u', api_key='3f9a0c77d2')\n", line=1),
        Invalid("config = {'user': 'u', 'password': 'changeme'}\n", line=1),
        Invalid("def login(password):\n    return password == 'root'\n", line=2),
        Invalid("ADMIN_PASSWORD = 'contest2024'\n", line=1),
        Invalid("def f(obj):\n    obj.authToken = 'abc123def'\n", line=2),
        Invalid("settings['api_key'] = 'abc123def'\n", line=1),
        Invalid("ACCESS_TOKEN = 'c2VjcmV0LXRva2VuLTEyMw'\n", line=1),
        Invalid("KEY = 'AKIAZ7QW3RT5YU6IO8PL'\n", line=1),
        Invalid(
            "def test_api():\n    call(headers={'Authorization': 'token ghp_"
            + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'})\n",
            line=2, path="tests/test_api.py",
        ),
        Invalid(
            "import jwt\n\ndef sign(claims):\n    return jwt.encode(claims, 'my-signing-key')\n",
            line=4,
        ),
        Invalid("from jose import jwt\n\ndef read(t):\n    return jwt.decode(t, key='s3cr3t')\n",
                line=4),
        Invalid(
            "import boto3\n\ns3 = boto3.client('s3', aws_access_key_id='id',"
            " aws_secret_access_key='wJalrXUtnFEMIK7MDENGbPxRfiCY')\n",
            line=3,
        ),
        Invalid("from itsdangerous import URLSafeSerializer\n\ns = URLSafeSerializer('dev key')\n",
                line=3),
        Invalid("from hashids import Hashids\n\nh = Hashids(salt='pepper and salt')\n", line=3),
        Invalid(
            "import smtplib\n\ns = smtplib.SMTP('mail')\ns.login('alerts', 'Tr0ub4dor&3')\n",
            line=4,
        ),
        Invalid(
            "from requests.auth import HTTPBasicAuth\n\n"
            "auth = HTTPBasicAuth('bot', 'b0t-pass')\n",
            line=3,
        ),
        Invalid(
            "import hmac\n\ndef sign(msg):\n    return hmac.new(b'k3y-123', msg, 'sha256')\n",
            line=4,
        ),
        Invalid(
            "from cryptography.fernet import Fernet\n\n"
            "f = Fernet(b'q0Xx7y8Zw1vU2tS3rR4pP5o=')\n",
            line=3,
        ),
        Invalid("DATABASE_URL = 'postgresql://app:hunter2@db.internal/app'\n", line=1),
        Invalid("def connect(host):\n    return create_engine(f'mysql://root:toor@{host}/db')\n",
                line=2),
        Invalid("app.config['SECRET_KEY'] = 'dev-secret-123'\n", line=1),
        Invalid(
            "import requests\n\ndef fetch(url):\n"
            "    return requests.get(url, auth=('deploy', 'd3pl0y-pass'))\n",
            line=4,
        ),
        Invalid(
            "import jwt\n\nSIGNING = 'sign-me-2024'\n\ndef token(claims):\n"
            "    return jwt.encode(claims, SIGNING, algorithm='HS256')\n",
            line=3,
        ),
        Invalid(
            "import boto3\n\ndef s3():\n    secret = 'wJalrXUtnFEMIK7MDENGbPxRfiCY'\n"
            "    return boto3.client('s3', aws_secret_access_key=secret)\n",
            line=4,
        ),
        Invalid("def create(user):\n    user.set_password('')\n    user.save()\n", line=2),
        Invalid("def test_empty(user):\n    password = ''\n    user.set_password(password)\n",
                line=2),
        Invalid("HUB = {'auth': 'hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567'}\n", line=1),
        Invalid(
            "CONN = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
            + "A1b2" * 21 + "Zz==;EndpointSuffix=core.windows.net'\n",
            line=1,
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        reported: set[ast.AST] = set()
        if not ctx.is_test:
            for value, message, use in self._sink_values(ctx):
                if value not in reported:
                    reported.add(value)
                    finding = ctx.report(self, value, message)
                    if use is not None:  # the literal is given through a name: where
                        finding = finding.with_(related=(ctx.report(self, use).span,))
                    yield finding
            for value, call in _empty_passwords(ctx):
                if value not in reported:
                    reported.add(value)
                    finding = ctx.report(
                        self, value, "set_password() is given an empty password: the account"
                        " then logs in with none; use set_unusable_password() for an account"
                        " that must not log in, or read the password from the caller.",
                    )
                    if value is not call.args[0]:  # given through a name: where it is set
                        finding = finding.with_(related=(ctx.report(self, call).span,))
                    yield finding
            for node in ctx.nodes(ast.Constant):
                password = inline_password(_str(node) or "")
                if password is not None and node not in reported:
                    reported.add(node)
                    yield ctx.report(
                        self, node, "The URL carries an inline password: a hard-coded secret;"
                        " read the password from the environment or a secret store.",
                    )
            for name, value in self._named_values(ctx):
                text = _str(value)
                if text is None or value in reported or _in_test_function(ctx, value):
                    continue
                word = secret_word(name)
                if word is None or (placeholder(text, name, word) and known_token(text) is None):
                    continue
                reported.add(value)
                yield ctx.report(
                    self, value, f"{name!r} is set to a string literal: a hard-coded secret;"
                    " read it from the environment or a secret store.",
                    fix=_env_fix(ctx, value),
                )
        for node in ctx.nodes(ast.Constant):
            text = _str(node)
            if text is None or node in reported or len(text) < 16:
                continue
            what = known_token(text)
            if what is not None:
                yield ctx.report(
                    self, node, f"The string contains {what}: a hard-coded credential;"
                    " revoke it and read it from the environment.",
                    severity=Severity.HIGH,
                )

    def _sink_values(self, ctx: PyContext) -> Iterator[tuple[ast.AST, str, ast.AST | None]]:
        """(literal, message, the call when given through a name) for string literals given
        to catalogued credential parameters."""
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        for call in calls(ctx):
            func = call.func
            method = func.attr if isinstance(func, ast.Attribute) else None
            last = method if method is not None else getattr(func, "id", None)
            if last not in sinks.last_names:
                continue
            name = flow(ctx).qualified_name(func)
            for sink in sinks.lookup(name, method):
                given = _sink_argument(call, sink)
                value = _credential(flow(ctx), given)
                text = _str(value)
                if isinstance(value, ast.Constant) and isinstance(value.value, bytes):
                    text = value.value.decode("latin-1")  # Fernet(b"..."), hmac.new(b"...")
                param = sink.keyword or f"argument {sink.arg + 1}"
                if value is None or text is None or (
                    placeholder(text, sink.keyword or "key", "secret")
                    and known_token(text) is None
                ):
                    continue
                shown = name.rsplit(".", 1)[-1] if sink.method else name
                fix = sink.fix or "read it from the environment or a secret store"
                via = f" (through {given.id!r}, line {call.lineno})" if isinstance(
                    given, ast.Name) else ""
                yield value, (
                    f"{shown}() is given a string literal as its {param}{via}: a hard-coded"
                    f" secret; {fix}."
                ), call if via else None

    @staticmethod
    def _named_values(ctx: PyContext) -> Iterator[tuple[str, ast.AST]]:
        """(name, value) pairs: assignments, dict entries, keywords, defaults, comparisons."""
        for node in (*ctx.nodes(ast.Assign), *ctx.nodes(ast.AnnAssign)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    yield from _assigned(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                yield from _assigned(node.target, node.value)
        for d in ctx.nodes(ast.Dict):
            if isinstance(d, ast.Dict):
                for key, value in zip(d.keys, d.values, strict=True):
                    key_text = _str(key)
                    if key_text is not None:
                        yield key_text, value
        for kw in ctx.nodes(ast.keyword):
            if isinstance(kw, ast.keyword) and kw.arg:
                yield kw.arg, kw.value
        for fn in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
            args: ast.arguments = fn.args  # type: ignore[attr-defined]
            yield from ((a.arg, d) for a, d in parameter_defaults(args))
        for cmp in ctx.nodes(ast.Compare):
            if isinstance(cmp, ast.Compare) and len(cmp.ops) == 1 and isinstance(
                cmp.ops[0], (ast.Eq, ast.NotEq)
            ):
                left, right = cmp.left, cmp.comparators[0]
                for named, value in ((left, right), (right, left)):
                    name = _target_name(named)
                    if name is not None and not isinstance(named, ast.Subscript):
                        yield name, value


def _credential(df: Flow, value: ast.expr | None) -> ast.expr | None:
    """The literal a credential argument carries: itself, the password of a ``(user,
    password)`` pair (``auth=("u", "pw")``), or the one literal a name is bound to (a
    module constant or a local assigned once)."""
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == 2:
        value = value.elts[1]
    if isinstance(value, ast.Name):
        bound = df.bindings(value) or []
        if len(bound) == 1 and isinstance(bound[0], ast.Constant):
            return bound[0]
    return value


def _empty_passwords(ctx: PyContext) -> Iterator[tuple[ast.Constant, ast.Call]]:
    """(the empty string, the call) for ``user.set_password("")`` (Django's and its
    look-alikes' one-argument ``set_password``, CWE-258), the ``""`` given directly or
    through a local assigned it just before in the same block (``password = ""`` then
    ``user.set_password(password)``). ``keyring.set_password(service, user, pw)`` takes
    three arguments and is a catalogued credential sink instead. A call on a new,
    unnamed object (``UserModel().set_password("")``, run to even out login timings)
    sets no account's password."""
    if "set_password" not in ctx.source:  # most files: no second pass over their calls
        return
    for call in calls(ctx):
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "set_password"
                and len(call.args) == 1 and not call.keywords):
            continue
        if isinstance(func.value, ast.Call):  # a throwaway ``User().set_password("")``:
            continue  # run for its timing (Django's modwsgi), no account has it
        given = call.args[0]
        value = _assigned_before(ctx, call, given) if isinstance(given, ast.Name) else given
        if isinstance(value, ast.Constant) and value.value == "":
            yield value, call


def _assigned_before(ctx: PyContext, call: ast.Call, name: ast.Name) -> ast.expr | None:
    """The value ``name`` was last assigned in the statements before ``call``'s statement
    in the same block (None when another statement in between may rebind it, or none does
    in that block)."""
    stmt: ast.AST = call
    parent = ctx.parent(stmt)
    while parent is not None and not isinstance(stmt, ast.stmt):
        stmt, parent = parent, ctx.parent(parent)
    body = getattr(parent, "body", None) if parent is not None else None
    if not isinstance(body, list) or stmt not in body:
        return None
    for earlier in reversed(body[:body.index(stmt)]):
        if (isinstance(earlier, ast.Assign) and len(earlier.targets) == 1
                and isinstance(earlier.targets[0], ast.Name)
                and earlier.targets[0].id == name.id):
            return earlier.value
        if any(isinstance(n, ast.Name) and n.id == name.id and not isinstance(n.ctx, ast.Load)
               for n in ast.walk(earlier)):
            return None
    return None


def _in_test_function(ctx: PyContext, node: ast.AST) -> bool:
    """Inside a pytest/unittest test (``def test_...``) of a module that is not a test
    file: its named literals are fixtures, as in a test file (known token formats are still
    reported)."""
    fn = ctx.enclosing_function(node)
    return fn is not None and fn.name.startswith("test_")


def _sink_argument(call: ast.Call, sink: Sink) -> ast.expr | None:
    return argument(call, sink.arg, sink.keyword) if sink.arg >= 0 else keyword(
        call, sink.keyword
    )


def inline_password(text: str) -> str | None:
    """The password written into a URL or DSN (``scheme://user:PASSWORD@host``), if real.

    Templates and references (``${DB_PASSWORD}``, ``{password}``, ``%(pw)s``), masks and a
    word that names the secret (``user:password@``, ``[user:passwd@]`` in a help text)
    are placeholders.
    """
    if "://" not in text or "@" not in text:
        return None
    for match in _DSN.finditer(text):
        password = match.group(1)
        if (
            not placeholder(password, "password", "password")
            and secret_word(password) is None
            and "EXAMPLE" not in text
        ):
            return password
    return None


def _assigned(target: ast.AST, value: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name, value) for an assignment target, pairing tuple targets with tuple values."""
    if isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for t, v in zip(target.elts, value.elts, strict=True):
                yield from _assigned(t, v)
        return
    name = _target_name(target)
    if name is not None:
        yield name, value


def _env_fix(ctx: PyContext, value: ast.AST) -> Fix | None:
    """``API_KEY = 'abc'`` (module or class level) -> ``API_KEY = os.environ['API_KEY']``,
    ``import os`` added when missing. Unsafe: the program now needs the variable set."""
    stmt = ctx.parent(value)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target: ast.AST = stmt.targets[0]
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is value:
        target = stmt.target
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(ctx.parent(stmt),
                                                           (ast.Module, ast.ClassDef)):
        return None
    end_line = getattr(value, "end_lineno", None)
    end_col = getattr(value, "end_col_offset", None)
    if end_line is None or end_col is None:
        return None
    edits: list[TextEdit | None] = []
    if not _cst.module_imports(ctx, "os"):
        if _cst.module_binds(ctx, "os"):
            return None
        insert = _cst.module_insertion(ctx, "import os\n")
        if insert is None or insert.line > stmt.lineno:
            return None
        edits.append(insert)
    name = target.id.upper()
    edits.append(TextEdit(value.lineno, value.col_offset + 1,  # type: ignore[attr-defined]
                          end_line, end_col + 1, f"os.environ[{name!r}]"))
    return _cst.make_fix(f"Read {name} from the environment", *edits, safe=False)
