"""The Python runtime inside a modelfn instance: Lambda's handler contract over the Runtime API.

Standard library only; imports nothing of the platform. Started either as a fresh interpreter
(modelfn_bootstrap.py) or in a process forked from the zygote (modelfn_zygote.py); both call main().

What it does, as the AWS Python runtime interface client does (behaviour and error formats were
read from its documentation and source; the code is our own):
  * puts the bundle (LAMBDA_TASK_ROOT) and its vendored packages first on sys.path, imports the
    handler module once (module-level code runs once per instance), finds the function;
  * init failures go to POST /runtime/init/error with Lambda's error types
    (Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, ...);
  * then loops: GET /next, call handler(event, context), POST the JSON result, or the error
    ({errorMessage, errorType, stackTrace}) with the traceback as a list of strings;
  * print() and logging go to stdout, which the platform files under the current request id.
"""

import decimal
import http.client
import importlib
import io
import json
import logging
import os
import socket
import sys
import time
import traceback

API = "/2018-06-01/runtime"
_THIS_FILE = os.path.abspath(__file__)
_current_request_id = ""


class FaultException(Exception):
    """An error the runtime itself names (not an exception raised by the function)."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# ---- the Runtime API client ---------------------------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: the Runtime API of a sandbox without a network (address "unix:/path")."""

    def __init__(self, path):
        super().__init__("localhost")
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


class RuntimeClient:
    """One persistent HTTP/1.1 connection to the platform (no timeout: /next is a long poll)."""

    def __init__(self, address):
        self.socket_path = address[len("unix:"):] if address.startswith("unix:") else None
        host, _, port = address.rpartition(":")
        self.host = host
        self.port = int(port) if self.socket_path is None else 0
        self.conn = None

    def _connect(self):
        if self.socket_path is not None:
            return UnixHTTPConnection(self.socket_path)
        return http.client.HTTPConnection(self.host, self.port)

    def _request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, API + path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def next(self):
        status, headers, body = self._request("GET", "/invocation/next")
        if status != 200:
            _fatal("GET /next answered %d: %s" % (status, body[:500]))
        return headers, body

    def post_response(self, request_id, payload, content_type):
        self._post("/invocation/%s/response" % request_id, payload, {"Content-Type": content_type})

    def post_error(self, request_id, error):
        self._post_error("/invocation/%s/error" % request_id, error)

    def post_init_error(self, error):
        self._post_error("/init/error", error)

    def _post_error(self, path, error):
        body = json.dumps(error).encode("utf-8")
        self._post(path, body, {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error["errorType"]})

    def _post(self, path, body, headers):
        status, _, answer = self._request("POST", path, body, headers)
        if status == 500:
            _fatal("the platform reported a non-recoverable state: %s" % answer[:500])
        if status != 202:
            print("[WARN] POST %s answered %d: %s" % (path, status, answer[:500].decode("utf-8", "replace")), flush=True)


def _fatal(message):
    print("[ERROR] %s" % message, flush=True)
    sys.exit(1)


# ---- the handler ----------------------------------------------------------------------------------


def setup_sys_path(task_root):
    """The bundle first, then the folders Lambda users vendor packages into."""
    version = "python%d.%d" % sys.version_info[:2]
    candidates = [
        task_root,
        os.path.join(task_root, "python", "lib", version, "site-packages"),
        os.path.join(task_root, "python"),
        os.path.join(task_root, "vendor"),
    ]
    paths = [p for i, p in enumerate(candidates) if i == 0 or os.path.isdir(p)]
    sys.path[0:0] = [p for p in paths if p not in sys.path]


def load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultException(
            FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % module_name
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (module_name, e), trace
        )
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (function_name, module_name)
        )


# ---- errors ---------------------------------------------------------------------------------------


def make_error(message, error_type, stack_trace, request_id=""):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def error_from_exception(exc_info, request_id=""):
    """An exception raised by the function: its class name, message and traceback (runtime frames cut)."""
    etype, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    while frames and os.path.abspath(frames[0].filename) == _THIS_FILE:
        frames = frames[1:]
    return make_error(str(value), etype.__name__, traceback.format_list(frames), request_id)


def log_error(error):
    lines = ["[ERROR] %s: %s" % (error["errorType"], error["errorMessage"])]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        for entry in error["stackTrace"]:
            lines.extend(entry.rstrip("\n").split("\n"))
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


# ---- marshalling ----------------------------------------------------------------------------------


def _encode_default(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    try:
        return json.dumps(response, default=_encode_default, ensure_ascii=ensure_ascii).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)


def unmarshal_event(body):
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)


# ---- the context object ---------------------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field) if isinstance(values, dict) else None)
    return obj


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context, cognito_identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        self.identity = _from_dict(CognitoIdentity, {})
        if isinstance(cognito_identity, dict):
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message):
        sys.stdout.write(str(message))
        sys.stdout.flush()

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,function_version=%s,invoked_function_arn=%s])" % (
            self.aws_request_id,
            self.function_name,
            self.function_version,
            self.invoked_function_arn,
        )


def _json_header(headers, name, what):
    value = headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(FaultException.CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (what, e))


# ---- stdout and logging ---------------------------------------------------------------------------


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current_request_id
        return True


def setup_output():
    """Line-buffered stdout/stderr on fds 1 and 2 (a pipe, or a socket in a forked instance)."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(fd, "w", closefd=False)),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        setattr(sys, name, stream)
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


# ---- the loop -------------------------------------------------------------------------------------


def handle_invocation(client, handler, headers, body):
    global _current_request_id
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    _current_request_id = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    error = None
    try:
        context = LambdaContext(
            request_id,
            int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            _json_header(headers, "Lambda-Runtime-Client-Context", "Client Context"),
            _json_header(headers, "Lambda-Runtime-Cognito-Identity", "Cognito Identity"),
        )
        event = unmarshal_event(body)
        result = handler(event, context)
        payload, content_type = marshal_response(result)
    except FaultException as e:
        error = make_error(e.message, e.error_type, e.trace, request_id)
    except Exception:
        error = error_from_exception(sys.exc_info(), request_id)
    if error is not None:
        log_error(error)
    _flush()
    if error is not None:
        client.post_error(request_id, error)
    else:
        client.post_response(request_id, payload, content_type)


# The line that tells the platform how the init was spent (read and dropped before the first /next).
INIT_MARKER = "\x00modelfn-init "


def report_init(began, user_init_start, user_init_end):
    """Epoch seconds when the runtime began, then runtime init and user init in ms."""
    phases = {
        "began": began * 1000.0,
        "runtimeInitMs": (user_init_start - began) * 1000.0,
        "userInitMs": (user_init_end - user_init_start) * 1000.0,
    }
    sys.stdout.write(INIT_MARKER + json.dumps(phases) + "\n")
    sys.stdout.flush()


def main(began=None):
    """began: epoch seconds when this process started running runtime code (the fork, or the interpreter's first line)."""
    began = began if began is not None else time.time()
    setup_output()
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    setup_sys_path(task_root)
    user_init_start = time.time()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        error = make_error(e.message, e.error_type, e.trace)
        log_error(error)
        client.post_init_error(error)
        return 1
    except Exception:
        error = error_from_exception(sys.exc_info())
        log_error(error)
        client.post_init_error(error)
        return 1
    report_init(began, user_init_start, time.time())
    while True:
        headers, body = client.next()
        handle_invocation(client, handler, headers, body)
