"""Named agent sessions: `AgentSession`, the per-kernel registry, and one turn (`ask`) end to end.

A session owns one Managed Agents session id, the transcript of its whole history and the ids
it has seen (so later turns and reconnects never replay old events). `ask()` interpolates,
uploads inputs, creates what is missing (client, agent, environment, session) and hands the turn
to `turn.Turn` (stream, fold, live view, Ctrl-C / `--timeout` -> `user.interrupt`), which
returns a `Run`.

Hooks for the other modules:
- `files` (sessions.files.SessionFiles over files.FileSync): `{{df}}` DataFrames and `files=` paths
  are uploaded and mounted before the send; outputs are pulled after the turn (`run.outputs`);
- `action_handler` (tools, optional): `.resolve(pending, ctx) -> list[event params]`; an idle that stays
  `requires_action` is shown as waiting and the turn ends, never hangs;
- `listeners`: callables receiving every event (cassette recorders, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..api import (
    EventLoop,
    api_call,
    api_read,
    backend,
    create_session,
    ensure_agent_and_environment,
    event_key,
    forget_cached,
    make_client,
    session_kwargs,
    setup_notice,
    split_agent_ref,
    turn_events,
    with_mcp_toolsets,
)
from ..config import Options, check_session_name, resolve_options
from ..egress import EgressMeter
from ..errors import AgentAPIError, ConfigError, NoBackendError, SessionError
from ..events import event_type, get_field, usd
from ..run import DryRun, Run
from ..tools import NO_SERVER_BUDGET, tool_setup
from ..transcript import empty, fold
from .asynchronous import ask_async
from .background import start_background
from .context import split_keywords, user_namespace, want_live
from .files import SessionFiles, attached, collect_inputs, typed_parts
from .interpolate import Interpolated, interpolate
from .recording import ask_cached, check_output_paths, wants_cache
from .turn import Turn

__all__ = ["AgentSession", "get_session", "registry", "attach", "forget"]

_registry: dict[str, AgentSession] = {}
_PREVIEW_TYPES = frozenset({"event_start", "event_delta"})


def registry() -> dict[str, AgentSession]:
    """The sessions of this kernel, by name."""
    return _registry


def get_session(name: str = "default", **options: Any) -> AgentSession:
    """The named session (created on first use); `options` become its defaults."""
    check_session_name(name)
    resolve_options(options)  # validate names and values now: a typo fails here, in one line
    sess = _registry.get(name)
    if sess is None:
        sess = _registry[name] = AgentSession(name, **options)
    else:
        sess.defaults.update(options)
    return sess


def forget(name: str) -> None:
    _registry.pop(name, None)


def attach(session_id: str, name: str | None = None, **options: Any) -> AgentSession:
    """Continue an existing session (by id) under `name` (default: the id); rebuilds its transcript."""
    sess = get_session(name or session_id, **options)
    sess.attach(session_id)
    return sess


class AgentSession:
    """One named conversation; `ask(prompt) -> Run`. Mirrors the `%%agent` flags as keywords."""

    def __init__(self, name: str = "default", **defaults: Any) -> None:
        self.name = name
        self.defaults: dict[str, Any] = dict(defaults)
        self.session_id: str | None = None
        self.history: Any = None  # Transcript of every event of the session
        self.events: list[Any] = []
        self.seen: set[tuple[str, bool]] = set()
        self.runs: list[Run] = []
        self.client: Any = None
        self.offline = False
        self.where: Any = None  # `Backend.key` of `client`
        self.session_where: Any = None  # `Backend.key` of the backend that holds `session_id`
        self.async_lock: Any = None  # (event loop, asyncio.Lock): one async turn at a time (asynchronous.py)
        self.async_busy = False  # an async turn is running: sync turns wait for nothing, they fail in one line
        self.egress = EgressMeter()  # what this session sent, turn by turn (egress.py)
        self.files = SessionFiles(name, self.egress)
        self.action_handler: Any = None
        self.tool_options: dict[str, Any] = {}
        self.tools_applied: str | None = None
        self.created_with: tuple[str, str] | None = None  # (model, system) the session was created with
        self.listeners: list[Callable[[Any], None]] = []
        self.event_loop: EventLoop | None = None  # kept across turns, so seen ids carry over (`loop()`)
        self.active: Any = None  # the background.BackgroundRun of this session, if any
        self.remote: Any = None  # the server session as created/attached (agent id+version, environment id)
        self.last_cache_key: str | None = None  # Run-All cache key of the previous turn (recording.py)

    def __repr__(self) -> str:
        return f"<AgentSession {self.name!r} id={self.session_id} turns={len(self.runs)}>"

    # -- set-up ------------------------------------------------------------------------------
    def options(self, **overrides: Any) -> Options:
        return resolve_options({**self.defaults, **overrides})

    def connect(self, opts: Options | None = None) -> Any:
        """The session's `anthropic` client (made on first use; made again when the backend changed:
        `%agent offline`, `go_online()`, another emulator or base URL, `using_emulator(...)`)."""
        opts = opts if opts is not None else self.options()
        if self.client is None or self.where != backend().key:
            self.client = make_client(opts)
            where = backend()
            self.offline, self.where = where.offline, where.key
        return self.client

    def share_client(self, other: AgentSession) -> None:
        """Use `other`'s client (one connection pool for a fan-out's sessions)."""
        self.client, self.offline, self.where = other.client, other.offline, other.where

    def moved(self) -> bool:
        """Whether the server session belongs to another backend than the current one (the
        emulator was restarted, `%agent offline` came after it was made...)."""
        if self.session_id is None:
            return False
        try:
            return bool(self.session_where != backend().key)
        except NoBackendError:  # e.g. `offline=True` starts the emulator when the client is made
            return True

    def _tool_setup(self, ns: Mapping[str, Any], tool_options: dict[str, Any], opts: Options,
                    background: bool = False) -> Any:
        """Custom tools, approvals and budget (tools/setup.py) for `tool_options` (the cell's tool
        flags, else the session's): validated here, stored by `prepare_turn` only once the turn's
        session exists, so a rejected value never sticks. None when nothing is configured."""
        if not tool_options and not opts.tools and not opts.max_usd and not opts.mcp:
            return None  # (MCP tools ask by default: their approvals need the handler)
        setup = tool_setup(
            namespace=ns, defaults=opts.tools, max_usd=opts.max_usd or None, background=background, **tool_options
        )
        setup.config = with_mcp_toolsets(setup.config, opts)  # custom tools replace the list: keep MCP's
        return setup

    def _ensure_session(self, opts: Options, prep: Any = None, setup: Any = None, *, new: bool = False,
                        local: Any = None) -> str:
        """Create the server session if there is none, or a new one (`new`), mounting `prep`'s
        inputs at creation; bring an existing one's tools in line with `setup`. The session
        switches to a new server session only once that exists: a failure keeps the current one.
        `local` (local.LocalRun): the session's tools run in this kernel (docs/local.md)."""
        client = self.connect(opts)
        old_local = self.files.local
        if self.session_id is not None and not new:
            if setup is not None:
                self.tools_applied = api_call(setup.sync, client, self.session_id, self.tools_applied)
            if local is not None:
                local.serve(str(self.session_id), str(get_field(self.remote, "environment_id")), opts)
                self.files.local = local
            return str(self.session_id)
        try:
            created = self._create_remote(client, opts, prep, setup, local)
        except BaseException:
            self.files.discard(prep)  # nothing of the batch stays uploaded
            if local is not None and (old_local is None or old_local.token != local.token):
                local.release()
            raise
        self._reset(str(created.id))
        self.files.local = local
        if local is not None:
            local.spec.session_id = str(created.id)
        if old_local is not None and (local is None or old_local.token != local.token):
            old_local.release()
        if new:
            self.last_cache_key = None
        self.remote = created
        self.created_with = (opts.model, opts.system)
        self.files.bind(prep, created)
        customised = setup is not None and setup.config.customised
        self.tools_applied = setup.config.fingerprint if customised else None
        return str(self.session_id)

    def _create_remote(self, client: Any, opts: Options, prep: Any, setup: Any, local: Any = None) -> Any:
        """The server session for `opts`. When the server refuses the agent/environment ids of the
        process cache (404 or 400: deleted or archived elsewhere, an emulator restarted at the
        same URL), they are resolved again once, and when that finds others they are used."""
        # Local mode: this kernel's own environment (the work API routes work by environment only).
        env_name = None
        if local is not None:
            from ..local import HOST, local_environment_base

            env_name = HOST.environment_name(local_environment_base(opts))
        ids = ensure_agent_and_environment(client, opts, env_name)
        try:
            return self._create_with(client, opts, prep, setup, *ids, local=local)
        except AgentAPIError as exc:
            if exc.status not in (400, 404):
                raise
            forget_cached(client)
            fresh = ensure_agent_and_environment(client, opts, env_name)
            if fresh == ids:
                raise
            return self._create_with(client, opts, prep, setup, *fresh, local=local)

    def _create_with(self, client: Any, opts: Options, prep: Any, setup: Any, agent_id: str, env_id: str,
                     local: Any = None) -> Any:
        version = split_agent_ref(opts.agent_id)[1] if opts.agent_id else None
        session_args = session_kwargs(opts, self.name, client=client)  # title, metadata, repos, memory, vaults
        if local is not None:
            from ..local import LOCAL_KEY, is_local_environment

            if opts.environment_id and not api_call(is_local_environment, client, env_id):
                raise ConfigError(f"--environment {env_id} is not a self-hosted environment: --local needs one "
                                  "(leave --environment out to use nb-agents-local)")
            # The worker finds the session's folder by this token; it serves before the session
            # exists, so the work item the create enqueues is claimed with the right tools.
            session_args["metadata"] = {**session_args.get("metadata", {}), LOCAL_KEY: local.token}
            local.serve("", env_id, opts)
        extra: dict[str, Any] = (
            setup.create_kwargs(agent_id, version) if setup is not None
            else {"agent": agent_id if version is None else {"type": "agent", "id": agent_id, "version": version}}
        )
        resources = list(prep.resources) if prep is not None else []
        resources += session_args.pop("resources", [])
        if resources:
            extra["resources"] = resources
        return create_session(client, environment_id=env_id, **session_args, **extra)

    def _reset(self, session_id: str | None) -> None:
        self.session_id = session_id
        self.session_where = self.where if session_id else None
        self.history = empty(offline=self.offline, session_id=session_id) if session_id else None
        self.events, self.seen, self.event_loop = [], set(), None
        self.tools_applied = None
        self.created_with = None

    def new(self) -> None:
        """Start a new conversation on the next `ask` (the old session stays on the server).
        Refused while a background run is going (it would lose the session under the run)."""
        self.check_free()
        self._reset(None)
        self.last_cache_key = None
        self._release_local()

    def _release_local(self) -> None:
        if self.files.local is not None:
            self.files.local.release()
            self.files.local = None

    # -- one turn ----------------------------------------------------------------------------
    def prepare_prompt(self, prompt: str, namespace: Mapping[str, Any] | None, enabled: bool) -> Interpolated:
        if not enabled:
            return Interpolated(text=prompt, refs=())
        return interpolate(prompt, namespace if namespace is not None else {})

    def ask(self, prompt: str, *, dry_run: bool = False, background: bool = False, refresh: bool = False,
            **kw: Any) -> Any:
        """Send `prompt` as the next turn and follow it to the end (Ctrl-C interrupts it cleanly).

        Keywords: `namespace` (where `{{name}}` is looked up; default: the IPython user namespace),
        `interpolate=False` (send the prompt as written), `files`: paths to upload and mount besides
        the `{{df}}` DataFrames (`fmt="csv"` uploads the DataFrames as CSV, `pull=False` skips
        downloading the outputs); `live`: show the live view (default: inside IPython); `new`:
        start a new conversation first; `dry_run`: return what would be sent, spend nothing;
        `background`: return a `BackgroundRun` at once (the turn runs on a worker thread);
        `record`: also write this turn's cassette there; `cache=True` / `refresh`: the Run-All
        cache (docs/replay.md); other keywords are options (model=, timeout=...)."""
        if not dry_run and not background and wants_cache(self, kw, refresh):
            return ask_cached(self, prompt, refresh=refresh, **kw)
        turn = self.prepare_turn(prompt, dry_run=dry_run, background=background, **kw)
        if isinstance(turn, DryRun):
            return turn
        if background:
            return start_background(turn)
        run = turn.run()
        self.runs.append(run)
        return run

    async def ask_async(self, prompt: str, **kw: Any) -> Any:
        """`ask` for async code: `await session.ask_async(prompt, ...)` reads the stream with
        `AsyncAnthropic` (asynchronous.py); same keywords (except `background`) and the same `Run`."""
        return await ask_async(self, prompt, **kw)

    def prepare_turn(
        self,
        prompt: str,
        *,
        namespace: Mapping[str, Any] | None = None,
        interpolate: bool = True,
        dry_run: bool = False,
        files: Any = None,
        live: bool | None = None,
        new: bool = False,
        background: bool = False,
        record: str | None = None,
        **overrides: Any,
    ) -> Any:
        """Everything of `ask` before the read: interpolate, upload, create; a `Turn` (or a `DryRun`)."""
        self.check_free()
        overrides, tool_kw = split_keywords(overrides)
        opts = self.options(**overrides)
        turn_events(prompt, opts)  # an outcome without a rubric fails here, before anything is created
        check_output_paths(opts, record)  # and a file the turn cannot write
        if namespace is None and interpolate:
            namespace = user_namespace()
        ns = namespace if namespace is not None else {}
        prepared = self.prepare_prompt(prompt, ns, interpolate)
        inputs = collect_inputs(prepared, [files] if isinstance(files, str) else files)
        if dry_run:  # nothing changes, locally or remotely
            uploads = self.files.plan(inputs, opts, None if new else self.session_id)
            if opts.local:  # nothing would be uploaded: the inputs are written into the working folder
                from ..local import workdir_for

                where = workdir_for(opts, self.name) / "inputs"
                uploads = tuple(u.rsplit(" (", 1)[0] + f" (written to {where}, no upload)" for u in uploads)
            return DryRun(prompt=prepared.text, session_name=self.name, uploads=uploads, options={"model": opts.model})
        self.egress.begin(prompt)  # this turn's row opens before its uploads
        moved = self.moved()  # its server session is on a backend this kernel left: start anew
        # local and cloud sessions live in different environments: switching starts a new session
        switched = self.session_id is not None and bool(opts.local) != (self.files.local is not None)
        new = new or moved or switched
        # Everything for the turn is checked and made before the session changes: with `new`, the
        # current conversation stays until the new server session exists; tool flags stick only
        # once they worked.
        tool_options = dict(tool_kw) if tool_kw else self.tool_options
        if opts.local:
            tool_options = local_approvals(tool_options)
        setup = self._tool_setup(ns, tool_options, opts, background)
        client = self.connect(opts)
        local = None
        if opts.local:  # the folder is checked and the inputs written there: nothing is uploaded
            from ..local import prepare_local  # (local mode is loaded on first use)

            keep = self.files.local if not new and self.files.local is not None else None
            local = prepare_local(self.name, opts, inputs, token=keep.token if keep else None)
            local.spec.meter = self.egress  # the worker's tool results are what leaves the kernel now
            prep = local.prepared
        else:
            prep = self.files.prepare(client, opts, inputs, None if new else self.session_id)
        fresh = new or self.session_id is None
        self._ensure_session(opts, prep, setup, new=new, local=local)
        if local is not None:
            local.begin_turn()
        self.tool_options = tool_options
        if setup is not None:
            self.action_handler = setup.handler
            setup.handler.meter = self.egress  # answers sent by hand (`respond`) count as the loop's do
        text = prepared.text if prep is None else self.files.prompt(prompt, ns, prep, interpolate)
        text = self.files.with_pending(text, self.session_id)  # cards of `%agent upload`s since the last turn
        guard = setup.guard if setup is not None else None
        turn = Turn(self, opts, text, live=want_live(live), inputs=prep, guard=guard)
        inputs_shown = attached(prep)
        turn.prompt(typed_parts(prompt, ns, inputs_shown, interpolate), inputs_shown)
        if guard is not None and not fresh and getattr(self.remote, "budget", None) is None:
            # A budget is set only when a session is created: this one is held to the cap by the guard.
            guard.server_budget = False
            turn.notice(f"--max-usd {guard.max_usd:g}: this session was created without a budget, so this "
                        f"kernel keeps the cap (it interrupts the run when reached); {NO_SERVER_BUDGET}",
                        "warning")
        turn.background = background
        turn.record_path = record
        if moved:
            turn.notice("the backend changed since this session started: this cell starts a new conversation",
                        "warning")
        elif switched:
            turn.notice(f"this cell starts a new conversation ({'local' if opts.local else 'cloud'} mode)", "warning")
        if local is not None and fresh:
            turn.notice(f"local mode: the agent's tools run in this kernel, in {local.folder.root}"
                        + ("" if tool_options.get("auto") else " (bash, write and edit ask first)"))
        slot_note = None
        if local is not None:
            from ..local import HOST

            slot_note = HOST.take_slot_note()
        if slot_note:
            turn.notice(slot_note, "warning")
        note = setup_notice(opts, fresh)  # skills, MCP, repos, memory... and this turn's outcome
        if note:
            turn.notice(note)
        if self.created_with not in (None, (opts.model, opts.system)) and not opts.agent_id:
            # A session keeps the agent snapshot it was created with (the API cannot change it).
            turn.notice(
                f"this session keeps model {self.created_with[0]} and its system prompt; "
                "start a new session (--new) to use the new model/system", "warning"
            )
        return turn

    def check_free(self) -> None:
        """One turn at a time per session: a background run or an async turn still going is a
        one-line error (a second `ask_async` waits instead: asynchronous.py)."""
        if self.async_busy:
            raise SessionError(
                f"session {self.name!r} is running an async turn (ask_async): await it first (or use another --session)"
            )
        active = self.active
        if active is not None and not active.done:
            raise SessionError(
                f"session {self.name!r} is still running in the background: "
                f"`%agent wait {self.name}` or `%agent interrupt {self.name}` first (or use another --session)"
            )

    def collect(self, timeout: float | None = None) -> Any:
        """Wait for the background run and hand it over (`BackgroundRun.wait`: its static copy is
        shown once); the session then forgets it. A failed run raises its error here, once."""
        active = self.active
        if active is None:
            return None
        try:
            return active.wait(timeout)  # StillRunning: it stays this session's run
        finally:
            if active.done and self.active is active:
                self.active = None

    def loop(self) -> EventLoop:
        """The session's event loop (kept across turns so seen ids carry over)."""
        if self.event_loop is None:
            self.event_loop = EventLoop(self.client, str(self.session_id), on_event=lambda e: None, seen=self.seen)
        return self.event_loop

    # -- other actions -----------------------------------------------------------------------
    def attach(self, session_id: str) -> str:
        """Rebuild the transcript of `session_id` from its event history and continue it here;
        returns the server status (`running` -> `follow()` shows the rest of the turn)."""
        self.check_free()
        client = self.connect()
        remote = api_read(client.beta.sessions.retrieve, session_id)
        from ..local import attach_local

        local = attach_local(self.name, self.options(), remote)  # a local session: this worker serves it
        self._release_local()
        self._reset(session_id)
        self.remote = remote
        self.files.local = local
        if local is not None:
            local.spec.meter = self.egress
        loop = self.loop()
        for event in api_read(loop.history):
            self.record(event)
            key = event_key(event)
            if key is not None:
                loop.seen.add(key)
        return str(remote.status)

    def follow(self, *, live: bool | None = None, **overrides: Any) -> Run:
        """Follow the turn running now (e.g. after `attach`) until it stops; Ctrl-C interrupts it."""
        if self.session_id is None:
            raise SessionError(f"session {self.name!r} has not started yet")
        self.check_free()
        if self.files.local is not None:
            self.files.local.begin_turn()
        run = Turn(self, self.options(**overrides), None, live=want_live(live)).run()
        self.runs.append(run)
        return run

    def record(self, event: Any) -> None:
        """Fold one event into the history and give it to the listeners. Message previews
        (event_start / event_delta) are not folded: the history holds what the server keeps
        (the turn's own transcript shows previews), and folding every delta twice was half the
        reading thread's time on long messages (docs/benchmarks.md)."""
        if event_type(event) not in _PREVIEW_TYPES:
            self.egress.observe(event)  # tool names, for the answers' egress rows
            self.history = fold(self.history, event)
            if getattr(event, "id", None):
                self.events.append(event)
        self.record_preview(event)

    def record_preview(self, event: Any) -> None:
        """`record` for a message preview (`event_delta`; the per-delta path): listeners only."""
        if self.listeners:
            for listener in list(self.listeners):
                listener(event)

    def interrupt(self) -> None:
        """Stop this session's turn: its background run (if one is going) or whatever runs on the
        server (e.g. a run started elsewhere) by sending `user.interrupt`."""
        if self.active is not None and not self.active.done:
            self.active.interrupt()
            return
        self.send_interrupt()

    def send_interrupt(self) -> None:
        """Send `user.interrupt` to the server session (thread-safe: one API call)."""
        if self.session_id is None:
            raise SessionError(f"session {self.name!r} has not started yet")
        if self.files.local is not None:
            from ..local import HOST

            HOST.interrupt(self.session_id)  # a local command running now is stopped too
        events = [{"type": "user.interrupt"}]
        self.egress.sent(events)  # (outside the event loop: counted here)
        api_call(self.connect().beta.sessions.events.send, self.session_id, events=events)

    def archive(self) -> None:
        """Archive the session on the server and forget it here (not during a background run)."""
        self.check_free()
        if self.session_id is not None:
            api_call(self.connect().beta.sessions.archive, self.session_id)
        self._release_local()
        self._reset(None)
        forget(self.name)

    def info(self) -> dict[str, Any]:
        """Status, usage and cost from the server (`%agent status`). A session the server no
        longer has is "gone (404)"; one made on a backend this kernel left says so (no call)."""
        if self.session_id is None:
            return {"name": self.name, "session_id": None, "status": "not started", "turns": 0, "cost_usd": None}
        row = {"name": self.name, "session_id": self.session_id, "turns": len(self.runs), "cost_usd": None,
               "title": None, "resources": []}
        if self.moved():
            return {**row, "status": "on another backend"}
        try:
            remote = api_read(self.connect().beta.sessions.retrieve, self.session_id)
        except AgentAPIError as exc:
            if exc.status != 404:
                raise
            return {**row, "status": "gone (404)"}
        return {
            "name": self.name,
            "session_id": self.session_id,
            "status": remote.status,
            "turns": len(self.runs),
            "cost_usd": usd(get_field(get_field(remote, "usage"), "list_cost")),
            "title": remote.title,
            "resources": [_describe_resource(r) for r in (remote.resources or [])],
        }




def local_approvals(tool_options: dict[str, Any]) -> dict[str, Any]:
    """Local mode's default: bash, write and edit ask first (reads are free), unless the cell
    chose approvals itself (`--ask`, `--ask-all`, `--auto`)."""
    if any(tool_options.get(k) for k in ("ask", "ask_all", "auto")):
        return tool_options
    return {**tool_options, "ask": "bash,write,edit"}


def _describe_resource(r: Any) -> str:
    """One line per session resource for `%agent status` (memory stores, repositories, files)."""
    kind = getattr(r, "type", "?")
    if kind == "memory_store":
        return f"memory {r.memory_store_id} ({r.access or 'read_write'}) at {r.mount_path or '/mnt/memory/'}"
    if kind == "github_repository":
        return f"repo {r.url} at {r.mount_path}"
    return f"file {getattr(r, 'file_id', '?')} at {getattr(r, 'mount_path', '?')}"
