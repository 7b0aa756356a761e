#!/usr/bin/python3
"""tests/harness/svc.py - real services for calsync's tests, without Docker.

Starts PostgreSQL, Redis, an Apache Kafka broker (KRaft, single node) and a
Radicale CalDAV server on free loopback ports, each with a private data
directory and log under one run directory; waits until each answers; stops,
kills and restarts them (same port, same data). Used from the command line
(`make test`, tests/run.sh, by hand) and from pytest (class Services).

    svc.py start   --dir DIR [--only pg,redis,kafka,radicale]
    svc.py stop    --dir DIR
    svc.py restart NAME --dir DIR [--flush]     (NAME: pg|redis|kafka|radicale)
    svc.py kill    NAME --dir DIR
    svc.py env     --dir DIR

Files in DIR: env.sh / env.json (the CALSYNC_* settings), state.json (ports,
credentials), <name>.pid, <name>.log, and one data directory per service.
Run with Debian's /usr/bin/python3 (radicale, psycopg2 and redis come from it).
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import pwd
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time

NAMES = ("pg", "redis", "kafka", "radicale")
KAFKA_VERSION = "3.9.1"
STOP_DEADLINE = 30.0
READY_DEADLINE = {"pg": 60.0, "redis": 20.0, "kafka": 90.0, "radicale": 30.0}
# started only when asked for by name (a test that needs it), stopped with the rest
OPTIONAL = ("pgbouncer",)
READY_DEADLINE["pgbouncer"] = 20.0
RADICALE_USER = "calsync-test"
PG_DATABASE = "calsync"


class ServiceError(Exception):
    """A service failed to start or stop; the message says which and why."""

    def __init__(self, name, reason, log_path=None):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.log_path = log_path

    def report(self, lines=30):
        """The message plus the tail of the service's log, for humans."""
        text = f"svc: {self.name} failed: {self.reason}"
        tail = log_tail(self.log_path, lines) if self.log_path else ""
        if tail:
            text += f"\n--- last lines of {self.log_path} ---\n{tail}"
        return text


# ---------------------------------------------------------------- helpers

def log_tail(path, lines):
    try:
        with open(path, "rb") as f:
            data = f.read()[-20000:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def poll(check, deadline, interval=0.1):
    """Call check() until it returns true or the deadline (monotonic) passes."""
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)  # poll interval, bounded by the deadline
        interval = min(interval * 1.5, 1.0)


_CHILDREN = {}  # pid -> Popen, for services this process spawned itself


def pid_alive(pid):
    """True while pid runs (our own children are reaped through their Popen)."""
    if pid in _CHILDREN:
        if _CHILDREN[pid].poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def pid_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def write_file(path, text, mode=0o644):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kafka_libs():
    cache = os.environ.get("CALSYNC_CACHE") or os.path.expanduser("~/.cache/calsync")
    return os.path.join(cache, f"kafka-{KAFKA_VERSION}", "libs")


def pg_bindir():
    explicit = os.environ.get("CALSYNC_PG_BINDIR")
    if explicit:
        return explicit
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                             text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    base = "/usr/lib/postgresql"
    versions = sorted((d for d in os.listdir(base) if d.isdigit()), key=int) \
        if os.path.isdir(base) else []
    if not versions:
        raise ServiceError("pg", "PostgreSQL server binaries not found (run deploy/setup.sh)")
    return os.path.join(base, versions[-1], "bin")


# ---------------------------------------------------------------- services

class Service:
    """One service in a run directory: its ports, files, process."""

    name = ""
    stop_signal = signal.SIGTERM

    def __init__(self, run_dir, state):
        self.run_dir = run_dir
        self.state = state  # this service's dict inside state.json
        self.data_dir = os.path.join(run_dir, self.name)
        self.log_path = os.path.join(run_dir, f"{self.name}.log")
        self.pid_path = os.path.join(run_dir, f"{self.name}.pid")

    # --- to be provided by each service
    def ports(self):
        return ["port"]

    def prepare(self, flush):
        """Create the data directory and config before the first/next start."""

    def command(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    def after_ready(self):
        """One-time setup once the service answers (e.g. create a database)."""

    def env(self):
        raise NotImplementedError

    def spawn_user(self):
        return None

    def identity(self):
        """A string in the command line of our process (guards against pid reuse)."""
        return self.data_dir

    # --- common machinery
    @property
    def port(self):
        return self.state["port"]

    def fail(self, reason):
        return ServiceError(self.name, reason, self.log_path)

    def plan(self):
        """Choose ports (kept from an earlier start while free) before starting."""
        for key in self.ports():
            old = self.state.get(key)
            if old is None or not port_is_free(old):
                self.state[key] = free_port()

    def pid(self):
        """Pid of our running process, or None (guards against pid reuse)."""
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        if pid_alive(pid) and self.identity() in pid_cmdline(pid):
            return pid
        return None

    def start(self, flush=False):
        if self.pid() is not None:
            raise self.fail(f"already running (pid {self.pid()})")
        os.makedirs(self.data_dir, exist_ok=True)
        self.prepare(flush)
        self.spawn()
        self.wait_ready()
        self.after_ready()

    def spawn(self):
        with open(self.log_path, "ab") as log:
            log.write(f"=== svc.py: starting {self.name} at {time.ctime()} ===\n".encode())
            log.flush()
            kwargs = {}
            user = self.spawn_user()
            if user:
                kwargs.update(user=user, group=user, extra_groups=[])
            proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.data_dir, start_new_session=True,
                                    **kwargs)
        _CHILDREN[proc.pid] = proc
        write_file(self.pid_path, f"{proc.pid}\n")
        self.proc = proc

    def wait_ready(self):
        deadline = time.monotonic() + READY_DEADLINE[self.name]
        def check():
            if self.proc.poll() is not None:
                raise self.fail(f"exited during start-up (code {self.proc.poll()})")
            return self.ready()

        if not poll(check, deadline):
            raise self.fail(f"not ready after {READY_DEADLINE[self.name]:.0f} s")

    def stop(self):
        """Stop gracefully, SIGKILL after STOP_DEADLINE; no-op when not running."""
        pid = self.pid()
        if pid is not None:
            self.signal(pid, self.stop_signal)
            if not poll(lambda: not pid_alive(pid), time.monotonic() + STOP_DEADLINE):
                self.signal_group(pid, signal.SIGKILL)
                poll(lambda: not pid_alive(pid), time.monotonic() + 10)
            self.signal_group(pid, signal.SIGKILL)  # leftovers of the group, if any
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass

    @staticmethod
    def signal(pid, sig):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    @staticmethod
    def signal_group(pid, sig):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Postgres(Service):
    """A private initdb cluster, trust auth, socket inside the run dir."""

    name = "pg"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients

    def __init__(self, run_dir, state):
        super().__init__(run_dir, state)
        self.bindir = None
        self.cluster = os.path.join(self.data_dir, "data")

    def spawn_user(self):
        return "postgres" if os.geteuid() == 0 else None

    def socket_dir(self):
        # A unix socket path is limited to 107 bytes; fall back to TCP only.
        return self.data_dir if len(self.data_dir) < 90 else ""

    def prepare(self, flush):
        self.bindir = pg_bindir()
        user = self.spawn_user()
        if user:
            check_reachable(self.run_dir, user)
            pw = pwd.getpwnam(user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        if os.path.exists(os.path.join(self.cluster, "PG_VERSION")):
            return
        cmd = [os.path.join(self.bindir, "initdb"), "-D", self.cluster, "-A", "trust",
               "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        with open(self.log_path, "ab") as log:
            done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=self.data_dir, user=user,
                                  group=user, extra_groups=[] if user else None)
        if done.returncode != 0:
            raise self.fail(f"initdb exited with {done.returncode}")

    def command(self):
        opts = {"listen_addresses": "127.0.0.1", "port": self.port,
                "unix_socket_directories": self.socket_dir(), "fsync": "off",
                "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "200", "log_min_messages": "warning"}
        cmd = [os.path.join(self.bindir, "postgres"), "-D", self.cluster]
        for key, value in opts.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def ready(self):
        done = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-q", "-h",
                               "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-t", "2"], stdin=subprocess.DEVNULL)
        return done.returncode == 0

    def after_ready(self):
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                dbname="postgres", connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        finally:
            conn.close()

    def env(self):
        base = f"postgresql://postgres@127.0.0.1:{self.port}"
        return {"CALSYNC_DATABASE_URL": f"{base}/{PG_DATABASE}",
                "CALSYNC_TEST_PG_ADMIN_URL": f"{base}/postgres",
                "CALSYNC_TEST_PG_PORT": str(self.port)}


class Redis(Service):
    """redis-server without persistence; restart keeps keys unless --flush."""

    name = "redis"

    def prepare(self, flush):
        if flush:
            path = os.path.join(self.data_dir, "dump.rdb")
            if os.path.exists(path):
                os.unlink(path)

    def command(self):
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.data_dir, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "yes"]

    def identity(self):
        return f"127.0.0.1:{self.state.get('port')}"  # redis rewrites its process title

    def ready(self):
        import redis
        try:
            return redis.Redis(host="127.0.0.1", port=self.port,
                               socket_timeout=2).ping()
        except redis.RedisError:
            return False

    def save_and_stop(self):
        """Stop after writing dump.rdb, so that the next start has the keys."""
        import redis
        pid = self.pid()
        if pid is None:
            return
        try:
            redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30).shutdown(save=True)
        except redis.RedisError:
            pass  # the server closes the connection as it exits
        self.stop()

    def env(self):
        return {"CALSYNC_REDIS_URL": f"redis://127.0.0.1:{self.port}/0",
                "CALSYNC_TEST_REDIS_PORT": str(self.port)}


class Kafka(Service):
    """Apache Kafka in KRaft mode (broker+controller), jars from deploy/setup.sh."""

    name = "kafka"

    def __init__(self, run_dir, state):
        super().__init__(run_dir, state)
        self.props = os.path.join(self.data_dir, "server.properties")
        self.log4j = os.path.join(self.data_dir, "log4j.properties")
        self.log_dirs = os.path.join(self.data_dir, "data")

    def ports(self):
        return ["port", "controller_port"]

    def java(self, main_class, *args):
        return ["java", "-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{self.log4j}",
                f"-Dkafka.logs.dir={self.data_dir}",
                "-cp", os.path.join(kafka_libs(), "*"), main_class, *args]

    def prepare(self, flush):
        if not os.path.exists(os.path.join(kafka_libs(), f"kafka_2.13-{KAFKA_VERSION}.jar")):
            raise self.fail(f"broker jars missing in {kafka_libs()} (run deploy/setup.sh)")
        write_file(self.props, self.properties())
        write_file(self.log4j, LOG4J_PROPERTIES)
        if not os.path.exists(os.path.join(self.log_dirs, "meta.properties")):
            self.format_storage()

    def properties(self):
        p, c = self.state["port"], self.state["controller_port"]
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{c}",
            "listeners": f"PLAINTEXT://127.0.0.1:{p},CONTROLLER://127.0.0.1:{c}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{p}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.log_dirs,
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
        }
        return "".join(f"{k}={v}\n" for k, v in settings.items())

    def format_storage(self):
        with open(self.log_path, "ab") as log:
            uuid = subprocess.run(self.java("kafka.tools.StorageTool", "random-uuid"),
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            cluster_id = uuid.stdout.strip().splitlines()[-1] if uuid.stdout.strip() else ""
            if uuid.returncode != 0 or not cluster_id:
                log.write(uuid.stderr.encode())
                raise self.fail("kafka.tools.StorageTool random-uuid failed")
            done = subprocess.run(self.java("kafka.tools.StorageTool", "format", "-t",
                                            cluster_id, "-c", self.props),
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise self.fail(f"kafka.tools.StorageTool format exited with {done.returncode}")

    def command(self):
        return self.java("kafka.Kafka", self.props)

    def ready(self):
        if not port_answers(self.port):
            return False
        done = subprocess.run(["kcat", "-L", "-b", f"127.0.0.1:{self.port}", "-m", "3"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        return done.returncode == 0

    def env(self):
        return {"CALSYNC_KAFKA_BROKERS": f"127.0.0.1:{self.port}",
                "CALSYNC_TEST_KAFKA_PORT": str(self.port)}


LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""


class Radicale(Service):
    """Radicale CalDAV server with htpasswd (plain) auth and one test user."""

    name = "radicale"

    def __init__(self, run_dir, state):
        super().__init__(run_dir, state)
        self.config = os.path.join(self.data_dir, "config")
        self.htpasswd = os.path.join(self.data_dir, "htpasswd")

    def plan(self):
        super().plan()
        self.state.setdefault("user", RADICALE_USER)
        self.state.setdefault("password", secrets.token_urlsafe(12))

    def prepare(self, flush):
        write_file(self.htpasswd, f"{self.state['user']}:{self.state['password']}\n", 0o600)
        write_file(self.config, self.config_text())

    def config_text(self):
        return (f"[server]\nhosts = 127.0.0.1:{self.port}\n"
                f"[auth]\ntype = htpasswd\nhtpasswd_filename = {self.htpasswd}\n"
                "htpasswd_encryption = plain\ndelay = 0\n"
                "[rights]\ntype = owner_only\n"
                f"[storage]\nfilesystem_folder = {os.path.join(self.data_dir, 'collections')}\n"
                "[web]\ntype = none\n"
                "[logging]\nlevel = warning\nmask_passwords = True\n")

    def command(self):
        return [sys.executable, "-m", "radicale", "--config", self.config]

    def ready(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status < 500
        except OSError:
            return False
        finally:
            conn.close()

    def env(self):
        return {"CALSYNC_TEST_RADICALE_URL": f"http://127.0.0.1:{self.port}/",
                "CALSYNC_TEST_RADICALE_USER": self.state["user"],
                "CALSYNC_TEST_RADICALE_PASSWORD": self.state["password"],
                "CALSYNC_TEST_RADICALE_PORT": str(self.port)}


class Pgbouncer(Service):
    """Debian's pgbouncer in transaction pool mode in front of the private
    PostgreSQL (every database name passed through): what a worker must
    work behind - no session state survives a transaction."""

    name = "pgbouncer"

    def spawn_user(self):
        return "postgres" if os.geteuid() == 0 else None  # it refuses to run as root

    def prepare(self, flush):
        with open(os.path.join(self.run_dir, "state.json")) as f:
            pg_port = json.load(f)["pg"]["port"]
        write_file(os.path.join(self.data_dir, "pgbouncer.ini"), f"""[databases]
* = host=127.0.0.1 port={pg_port} user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 20
max_client_conn = 2000
ignore_startup_parameters = extra_float_digits
""")

    def command(self):
        return ["/usr/sbin/pgbouncer", os.path.join(self.data_dir, "pgbouncer.ini")]

    def ready(self):
        return not port_is_free(self.port)

    def env(self):
        return {"CALSYNC_TEST_PGBOUNCER_URL": f"postgresql://postgres@127.0.0.1:{self.port}"}


CLASSES = {cls.name: cls for cls in (Postgres, Redis, Kafka, Radicale, Pgbouncer)}


def check_reachable(path, user):
    """Fail clearly if `user` cannot traverse to path (root runs pg as postgres)."""
    pw = pwd.getpwnam(user)
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        mode = st.st_mode
        ok = (mode & 0o001 or (st.st_uid == pw.pw_uid and mode & 0o100)
              or (st.st_gid == pw.pw_gid and mode & 0o010))
        if not ok:
            raise ServiceError("pg", f"user {user} cannot enter {path}; "
                               f"use a run dir it can reach (chmod o+x {path})")
        if path == "/":
            return
        path = os.path.dirname(path)


# ---------------------------------------------------------------- the set

class Services:
    """The services of one run directory. Python API for pytest.

        svc = Services(dir); env = svc.start(only=["redis"]); svc.restart("redis")
        svc.env (dict of CALSYNC_* settings), svc.stop()
    """

    def __init__(self, run_dir):
        self.run_dir = os.path.abspath(run_dir)
        self.state_path = os.path.join(self.run_dir, "state.json")
        self.state = self._load_json(self.state_path)

    @staticmethod
    def _load_json(path):
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def service(self, name):
        if name not in CLASSES:
            raise ValueError(f"unknown service {name!r} (one of {', '.join(NAMES)})")
        return CLASSES[name](self.run_dir, self.state.setdefault(name, {}))

    @property
    def env(self):
        return self._load_json(os.path.join(self.run_dir, "env.json"))

    def pid(self, name):
        return self.service(name).pid()

    def running(self):
        return [n for n in NAMES if n in self.state and self.service(n).pid() is not None]

    def start(self, only=None):
        """Start the named services (default all) in parallel; all-or-nothing.

        Services already running in this directory are left as they are."""
        names = list(only or NAMES)
        os.makedirs(self.run_dir, exist_ok=True)
        os.chmod(self.run_dir, 0o755)  # postgres (another user) must enter it
        services = [s for s in map(self.service, names) if s.pid() is None]
        for svc in services:
            svc.plan()
        self._save_state()
        errors = self._run_parallel(lambda s: s.start(), services)
        if errors:
            for svc in services:
                svc.stop()
            raise errors[0] if len(errors) == 1 else MultiError(errors)
        self._write_env()
        return self.env

    @staticmethod
    def _run_parallel(action, services):
        errors = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(services) or 1) as pool:
            futures = {pool.submit(action, s): s for s in services}
            for future, svc in futures.items():
                try:
                    future.result()
                except ServiceError as e:
                    errors.append(e)
                except Exception as e:  # noqa: BLE001 - reported with its service
                    errors.append(ServiceError(svc.name, f"{type(e).__name__}: {e}",
                                               svc.log_path))
        return errors

    def stop(self, only=None):
        """Stop the named (default: all) services; succeeds when nothing runs."""
        for name in only or NAMES + OPTIONAL:  # sequential: also safe at interpreter exit
            self.service(name).stop()

    def kill(self, name):
        self.service(name).stop()

    def restart(self, name, flush=False):
        """Stop and start one service on the same port and data dir."""
        svc = self.service(name)
        if "port" not in svc.state:
            raise ServiceError(name, f"never started in {self.run_dir}")
        if isinstance(svc, Redis) and not flush:
            svc.save_and_stop()
        else:
            svc.stop()
        self._wait_port_released(svc)
        try:
            svc.start(flush=flush)
        except ServiceError:
            svc.stop()
            raise
        self._save_state()
        self._write_env()

    @staticmethod
    def _wait_port_released(svc):
        ports = [svc.state[k] for k in svc.ports()]
        if not poll(lambda: all(port_is_free(p) for p in ports), time.monotonic() + 30):
            raise svc.fail(f"port(s) {ports} still in use after stop")

    def _save_state(self):
        write_file(self.state_path, json.dumps(self.state, indent=2, sort_keys=True) + "\n",
                   0o600)

    def _write_env(self):
        env = {"CALSYNC_TEST_RUN_DIR": self.run_dir}
        # every program under test serves /healthz, /readyz and /metrics on a free
        # port of its own; it logs the port ("serving /healthz ... on port N")
        env["CALSYNC_HTTP_ADDR"] = "127.0.0.1:0"
        for name in NAMES:
            if name in self.state and "port" in self.state[name]:
                env.update(self.service(name).env())
        write_file(os.path.join(self.run_dir, "env.json"),
                   json.dumps(env, indent=2, sort_keys=True) + "\n", 0o600)
        write_file(os.path.join(self.run_dir, "env.sh"),
                   "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items())),
                   0o600)


class MultiError(ServiceError):
    """Several services failed; report() lists them all."""

    def __init__(self, errors):
        super().__init__(",".join(e.name for e in errors),
                         "; ".join(e.reason for e in errors))
        self.errors = errors

    def report(self, lines=30):
        return "\n".join(e.report(lines) for e in self.errors)


# ---------------------------------------------------------------- CLI

def parse_args(argv):
    parser = argparse.ArgumentParser(prog="svc.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    start = sub.add_parser("start", help="start services, write env.sh/env.json")
    start.add_argument("--only", help="comma-separated subset of " + ",".join(NAMES))
    sub.add_parser("stop", help="stop everything started in --dir")
    restart = sub.add_parser("restart", help="restart one service (same port, same data)")
    restart.add_argument("name", choices=NAMES)
    restart.add_argument("--flush", action="store_true", help="redis: start it empty")
    kill = sub.add_parser("kill", help="stop one service")
    kill.add_argument("name", choices=NAMES)
    sub.add_parser("env", help="print env.sh")
    for p in sub.choices.values():
        p.add_argument("--dir", required=True, help="run directory")
    args = parser.parse_args(argv)
    if getattr(args, "only", None):
        args.only = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in args.only if n not in NAMES]
        if bad:
            parser.error(f"unknown service(s): {', '.join(bad)}")
    return args


def run(args):
    svc = Services(args.dir)
    if args.cmd == "start":
        began = time.monotonic()
        svc.start(only=args.only)
        names = ",".join(args.only or NAMES)
        print(f"svc: {names} ready in {time.monotonic() - began:.1f} s; "
              f"env in {os.path.join(svc.run_dir, 'env.sh')}")
    elif args.cmd == "stop":
        svc.stop()
        print(f"svc: stopped services in {svc.run_dir}")
    elif args.cmd == "restart":
        svc.restart(args.name, flush=args.flush)
        print(f"svc: {args.name} restarted")
    elif args.cmd == "kill":
        svc.kill(args.name)
        print(f"svc: {args.name} stopped")
    elif args.cmd == "env":
        path = os.path.join(svc.run_dir, "env.sh")
        if not os.path.exists(path):
            print(f"svc: no {path} (run start first)", file=sys.stderr)
            return 1
        with open(path) as f:
            sys.stdout.write(f.read())
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except ServiceError as e:
        print(e.report(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        Services(args.dir).stop()
        return 130


if __name__ == "__main__":
    sys.exit(main())
