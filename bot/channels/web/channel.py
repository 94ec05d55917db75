"""The website chat socket: Rasa's socketio channel with the clinic's security rules.

Enabled in credentials.yml as ``bot.channels.web.channel.SecureSocketIOInput``. It
speaks the same events as Rasa's ``SocketIOInput`` (``session_request`` /
``session_confirm``, ``user_uttered`` / ``bot_uttered``) so any socket.io v4
client works, and adds:

* only listed origins may connect (``bot.channels.web.session.OriginPolicy``);
* a patient token (JWT) binds conversations to its subject, re-checked for
  expiry on every message; without one the server issues the conversation id;
* an invitation link (``auth: {invite}``, from the page ``/i/<token>``, ``invite_page``)
  binds the socket to the invitation's conversation, the one its texts are in, so
  the SMS turns so far are its history (``invite``); every message of a patient so
  identified carries ``patient_id`` and ``identity`` in its metadata;
* empty and oversized messages get a clear reply and never reach the assistant,
  even a frame too large to parse (``web_session.bound_frame``);
* each conversation and each client address is rate limited (``web_session.MessageLimits``);
* every message with a client id is acknowledged and answered once, however often
  a reconnecting widget sends it (``delivery``);
* ``session_history`` replays a resumed conversation (and names the client ids it
  holds), ``turn_complete`` tells the widget the assistant has finished answering;
* the widget names its page's language in ``session_request`` (``lang``): only a supported
  one is kept; the channel's own replies are in it, and the first message of a conversation
  not started yet carries it (metadata ``languages.METADATA_KEY``), so the conversation starts
  in it (actions/session.py) while a patient's later switch is never undone by the page; an
  invitation's messages carry the invitation's language instead, as its texts do;
* the same blueprint serves the widget bundle (``/widget/widget.js``), a demo
  clinic page (``/widget/demo``, ``?lang=es`` in Spanish), ``/widget/origin``, where a refused page learns why,
  and the invitation page (``/i/<token>``).

The rules themselves live in ``web_session`` so they can be tested without Rasa, the
event names and reason codes in ``widget/protocol.json`` (``protocol``), which the
widget is built with, and every text the channel sends or shows in ``content/web.yml``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import string
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as Refused

from bot import content, settings
from bot.channels.web import delivery, protocol
from bot.channels.web import invite as web_invite
from bot.channels.web import session as web_session
from bot.channels.web.invite_page import ROUTE as INVITE_ROUTE
from bot.channels.web.invite_page import InvitePage
from bot.channels.web.session import (
    IssuedSession,
    OriginPolicy,
    PatientTokenVerifier,
    SessionKeys,
    TokenError,
    WidgetConfigError,
)
from bot.content import languages
from bot.invitations import IDENTITY_KEY, IDENTITY_PORTAL, PATIENT_ID_KEY, language_metadata
from bot.records.flags import CLIENT_ADDRESS_KEY

logger = logging.getLogger(__name__)

WIDGET_DIR = settings.PROJECT_ROOT / "widget"
DEFAULT_BUNDLE = WIDGET_DIR / "dist" / "widget.js"
DEMO_TEMPLATE = WIDGET_DIR / "demo.html"
# Engine.IO closes a socket on a frame over its buffer size. Sanic's WebSocket layer already
# refuses frames over 1 MiB (WEBSOCKET_MAX_SIZE), so Engine.IO is given the same and the
# channel's own, smaller limit (max_frame_chars) answers a long frame instead of parsing it.
ENGINEIO_BUFFER_BYTES = 2**20


class _WidgetBlueprint(SocketBlueprint):
    """Attaches the socket server and the widget's own pages to the Sanic app.

    Rasa mounts channel blueprints under ``/webhooks/<name>/``; the widget files
    are added at the app's root so the script URL a clinic pastes stays short.
    """

    def __init__(self, channel: SecureSocketIOInput, sio: AsyncServer, socketio_path: str) -> None:
        super().__init__(sio, socketio_path, "secure_socketio_webhook", __name__)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        channel: SecureSocketIOInput = self.ctx.channel
        channel.app = app
        app.add_route(channel.serve_bundle, "/widget/widget.js", name="widget_bundle")
        app.add_route(channel.serve_origin_check, protocol.ORIGIN_CHECK_PATH, name="widget_origin")
        if channel.demo_page:
            app.add_route(channel.serve_demo, "/widget/demo", name="widget_demo")
        app.add_route(channel.invite_page.serve, INVITE_ROUTE, methods=["GET", "POST"], name="invite_page")


class SecureSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel, locked down for patients' conversations."""

    @classmethod
    def name(cls) -> str:
        # Same name as Rasa's channel: responses with `channel: socketio`
        # variations and analytics keep working.
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its credentials.yml section, secrets from the environment.

        Every content file is checked first, so a typo in one stops the server at
        start with the file and the field named. Event names and the message limit
        come from the widget's protocol; credentials.yml may repeat them, not change them.
        """
        content.check()
        credentials = credentials or {}
        shared = {
            "user_message_evt": protocol.USER_MESSAGE_EVT,
            "bot_message_evt": protocol.BOT_MESSAGE_EVT,
            "max_message_chars": protocol.MAX_MESSAGE_CHARS,
        }
        for key, value in shared.items():
            given = credentials.get(key)
            if given is not None and str(given) != str(value):
                raise WidgetConfigError(
                    f"credentials.yml: {key} is {given!r} but the widget is built with {value!r} "
                    f"({protocol.PROTOCOL_FILE.name}); change widget/protocol.json and rebuild the widget instead"
                )
        return cls(
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            require_token=bool(credentials.get("require_token", False)),
            jwt_secret_env=credentials.get("jwt_secret_env", web_session.JWT_SECRET_ENV),
            jwt_audience=credentials.get("jwt_audience"),
            jwt_issuer=credentials.get("jwt_issuer"),
            session_max_age_days=float(credentials.get("session_max_age_days", 7)),
            widget_bundle=credentials.get("widget_bundle"),
            demo_page=bool(credentials.get("demo_page", True)),
            demo_start_payload=credentials.get("demo_start_payload"),
            rate_limit_messages=int(credentials.get("rate_limit_messages", web_session.RATE_LIMIT_MESSAGES)),
            rate_limit_address_messages=int(
                credentials.get("rate_limit_address_messages", web_session.RATE_LIMIT_ADDRESS_MESSAGES)
            ),
            rate_limit_seconds=float(credentials.get("rate_limit_seconds", web_session.RATE_LIMIT_SECONDS)),
            max_frame_chars=int(credentials.get("max_frame_chars", web_session.MAX_FRAME_CHARS)),
        )

    def __init__(
        self,
        user_message_evt: str = protocol.USER_MESSAGE_EVT,
        bot_message_evt: str = protocol.BOT_MESSAGE_EVT,
        namespace: str | None = None,
        socketio_path: str = "/socket.io",
        max_message_chars: int = protocol.MAX_MESSAGE_CHARS,
        require_token: bool = False,
        jwt_secret_env: str = web_session.JWT_SECRET_ENV,
        jwt_audience: str | None = None,
        jwt_issuer: str | None = None,
        session_max_age_days: float = 7,
        widget_bundle: str | None = None,
        demo_page: bool = True,
        demo_start_payload: str | None = None,
        rate_limit_messages: int = web_session.RATE_LIMIT_MESSAGES,
        rate_limit_seconds: float = web_session.RATE_LIMIT_SECONDS,
        rate_limit_address_messages: int = web_session.RATE_LIMIT_ADDRESS_MESSAGES,
        max_frame_chars: int = web_session.MAX_FRAME_CHARS,
        allowed_origins: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Read settings and secrets now, so a bad configuration stops the server at start."""
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=namespace,
            session_persistence=True,
            socketio_path=socketio_path,
            jwt_key=None,  # patient tokens are checked here, not by the parent
        )
        environ = dict(os.environ) if env is None else env
        if allowed_origins is None:
            allowed_origins = list(content.clinic().allowed_origins)
        extra = web_session.origins_from_env(environ.get(web_session.ALLOWED_ORIGINS_ENV))
        self.origins = OriginPolicy.from_lists(allowed_origins, extra)

        # Optional (anonymous chats need none); when set, production mode wants a real one.
        secret = settings.secret(jwt_secret_env, None, environ) if environ.get(jwt_secret_env) else None
        self.tokens: PatientTokenVerifier | None = None
        if secret:
            web_session.check_secret(secret, jwt_secret_env)
            self.tokens = PatientTokenVerifier(secret, audience=jwt_audience, issuer=jwt_issuer)
        if require_token and self.tokens is None:
            raise WidgetConfigError(f"require_token is set but {jwt_secret_env} is not")
        self.require_token = require_token

        key, source = web_session.session_secret(environ)
        self.keys = SessionKeys(key, max_age=int(session_max_age_days * 24 * 3600))
        self.max_message_chars = max_message_chars
        if not max_message_chars < max_frame_chars <= ENGINEIO_BUFFER_BYTES:
            raise WidgetConfigError(
                f"max_frame_chars must be above max_message_chars ({max_message_chars}) "
                f"and at most {ENGINEIO_BUFFER_BYTES}"
            )
        self.max_frame_chars = max_frame_chars
        self.limits = web_session.MessageLimits(rate_limit_messages, rate_limit_address_messages, rate_limit_seconds)
        self.received = delivery.ReceivedMessages()
        self._turns: set[asyncio.Task[None]] = set()  # running turns, kept from the garbage collector
        self.bundle_path = Path(widget_bundle) if widget_bundle else DEFAULT_BUNDLE
        if not self.bundle_path.is_absolute():
            self.bundle_path = settings.PROJECT_ROOT / self.bundle_path
        self.demo_page = demo_page
        self.demo_start_payload = demo_start_payload
        self.invite_page = InvitePage(start_payload=demo_start_payload)
        self.app: Sanic | None = None
        public = web_session.origin_of(settings.public_base_url(environ))
        if not self.origins.allows(public):
            logger.warning(
                "Website chat: PUBLIC_BASE_URL's origin %s is not an allowed origin, so the chat on the invitation "
                "page (/i/...) cannot connect; add it to allowed_origins or %s.",
                public,
                web_session.ALLOWED_ORIGINS_ENV,
            )
        logger.info(
            "Website chat: origins %s; patient tokens %s; session keys signed with a key %s.",
            ", ".join(sorted(self.origins.allowed)),
            "required" if require_token else ("accepted" if self.tokens else "not configured"),
            source,
        )

    # --- HTTP: widget bundle and demo page ----------------------------------

    async def serve_bundle(self, _: Request) -> HTTPResponse:
        """The widget script a clinic's page loads with one script tag."""
        if not self.bundle_path.is_file():
            return response.text(
                "The chat widget has not been built: run `make widget` (npm ci && npm run build in widget/).",
                status=503,
            )
        return await response.file(
            self.bundle_path,
            mime_type="application/javascript; charset=utf-8",
            headers={
                "Cache-Control": "no-cache",
                "Cross-Origin-Resource-Policy": "cross-origin",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def serve_demo(self, request: Request) -> HTTPResponse:
        """A plain clinic page with the widget on it, its words from content/web.yml and the clinic's facts.

        ``?lang=es``: the page and its widget in Spanish, as a clinic's Spanish page would have them.
        """
        clinic = content.clinic()
        language = languages.supported(request.args.get("lang")) or languages.ENGLISH
        with languages.use(language):
            launcher = content.widget_text("labels.launcher")
            words = {
                name.removeprefix("demo_page."): content.web_text(name, launcher=launcher)
                for name in content.web_texts()
                if name.startswith("demo_page.")
            }
        attributes = {"data-clinic-name": clinic.name, "data-notice": words["emergency"], "data-lang": language}
        if self.demo_start_payload:
            attributes["data-start-payload"] = self.demo_start_payload
        script_attributes = " ".join(f'{name}="{html.escape(value, quote=True)}"' for name, value in attributes.items())
        page = string.Template(DEMO_TEMPLATE.read_text(encoding="utf-8")).substitute(
            {name: html.escape(text) for name, text in words.items()},
            lang=language,
            clinic_name=html.escape(clinic.name),
            phone=html.escape(clinic.phone),
            hours=html.escape(clinic.hours_text(language)),
            script_attributes=script_attributes,
        )
        return response.html(
            page,
            headers={
                "Content-Security-Policy": (
                    "default-src 'none'; script-src 'self'; connect-src 'self'; "
                    "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
                    "form-action 'none'; frame-ancestors 'none'"
                ),
                "Content-Language": language,
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # --- socket ---------------------------------------------------------------

    def _allows_origin(self, origin: str | None, _environ: dict[str, Any] | None = None) -> bool:
        """Engine.IO's own check: refuses the handshake and withholds CORS headers for other pages."""
        return self.origins.allows(origin)

    async def _events(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's events so far (serialized), read from Rasa's tracker store."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return []
        try:
            tracker = await store.retrieve_full_tracker(sender_id)
        except Exception:  # a broken store must not break the chat
            logger.exception("Could not read the conversation history.")
            return []
        if tracker is None:
            return []
        return [event.as_dict() for event in tracker.events]

    def _bound_frames(self, sio: AsyncServer) -> None:
        """Frames over ``max_frame_chars`` are answered from their first bytes, never parsed.

        Engine.IO reads frames through its async driver (``translate_request`` for
        long-polling, a WebSocket wrapper otherwise); this server's copy of the driver
        passes each frame through ``web_session.bound_frame`` first.
        """
        eio = sio.eio
        drivers = dict(eio._async)
        limit, event = self.max_frame_chars, self.user_message_evt
        websocket = drivers.get("websocket")
        if websocket is not None:

            class BoundedWebSocket(websocket):  # type: ignore[misc,valid-type]
                async def wait(self) -> str | bytes:
                    return web_session.bound_frame(await super().wait(), limit, event)

            drivers["websocket"] = BoundedWebSocket
        translate = drivers["translate_request"]

        def bounded_translate(request: Request) -> dict[str, Any]:
            environ: dict[str, Any] = translate(request)
            body = request.body or b""
            if len(body) > limit:
                bounded = web_session.bound_payload(body, limit, event)
                environ["wsgi.input"] = _Body(bounded)
                environ["CONTENT_LENGTH"] = str(len(bounded))
            return environ

        drivers["translate_request"] = bounded_translate
        eio._async = drivers

    async def serve_origin_check(self, request: Request) -> HTTPResponse:
        """Whether the asking page may open a chat, so a refused widget can say so.

        A foreign page's socket handshake fails without a reason it can read (no CORS
        headers, on purpose), which the widget would show as "cannot reach". This answer
        is readable by any page and says only whether the asking page's origin is listed.
        """
        headers = request.headers
        origin = web_session.page_origin(
            {
                "HTTP_ORIGIN": headers.get("origin"),
                "HTTP_HOST": headers.get("host"),
                "HTTP_SEC_FETCH_SITE": headers.get("sec-fetch-site"),
                "wsgi.url_scheme": headers.get("x-forwarded-proto") or request.scheme,
            }
        )
        allowed = self.origins.allows(origin)
        return response.json(
            {"origin_allowed": allowed, "reason": None if allowed else protocol.ORIGIN_NOT_ALLOWED},
            headers={
                "Access-Control-Allow-Origin": "*",
                "Cache-Control": "no-store",
                "Vary": "Origin",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def _bind_invitation(self, credential: object) -> web_invite.InviteBinding:
        """The conversation an invitation credential opens, or the socket is refused with the reason.

        Neither the credential nor anything it names is logged.
        """
        try:
            return await web_invite.bind_in_thread(credential)
        except TokenError as error:
            logger.info("Refused a chat socket: %s.", error.reason)
            raise Refused(error.reason) from error
        except Exception as error:  # the invitations table cannot be read: the link cannot be checked
            logger.exception("Could not check an invitation link.")
            raise Refused(protocol.INVITE_INVALID) from error

    async def _invitation_still_open(self, sid: str, session: dict[str, Any]) -> bool:
        """Whether the socket's invitation still works (not withdrawn, locked or run out), asked once a minute."""
        now = time.monotonic()
        if now - float(session.get("invite_checked_at") or 0) < web_invite.RECHECK_SECONDS:
            return True
        try:
            current = await web_invite.bind_in_thread(session.get("invite_credential"))
        except TokenError:
            return False
        except Exception:  # a passing database error does not end a patient's chat
            logger.exception("Could not check an invitation link again.")
            return True
        session["invite_checked_at"] = now
        await self.sio.save_session(sid, session, namespace=self.namespace)
        return current.conversation_id == session["invite"].conversation_id

    def _start_turn(self, turn: Awaitable[None]) -> None:
        """Run a turn after the message is acknowledged, keeping a reference until it ends."""
        task = asyncio.ensure_future(turn)
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket server and its event handlers, plus the widget routes."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self._allows_origin,
            cors_credentials=False,
            max_http_buffer_size=ENGINEIO_BUFFER_BYTES,
        )
        self._bound_frames(sio)
        self.sio = sio
        namespace = self.namespace
        blueprint = _WidgetBlueprint(self, sio, self.socketio_path or "/socket.io")

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def reply(room: str, text: str, notice: str) -> None:
            """One of the channel's own replies, marked with ``notice`` so the widget can tell it apart."""
            await sio.emit(self.bot_message_evt, {"text": text, "notice": notice}, room=room, namespace=namespace)

        def own_text(language: str | None, name: str) -> str:
            """The channel's own reply ``name`` (content/web.yml) in the page's language (English if none)."""
            with languages.use(language or languages.ENGLISH):
                return content.web_text(name)

        async def turn_complete(room: str, client_id: str | None) -> None:
            """The assistant has finished with a message (``client_id`` names it for the widget)."""
            data = {protocol.CLIENT_ID_KEY: client_id} if client_id else {}
            await sio.emit(protocol.TURN_COMPLETE, data, room=room, namespace=namespace)

        def ack(client_id: str | None, status: str) -> dict[str, Any]:
            """What a ``user_uttered`` is acknowledged with (socket.io's own ack)."""
            return {protocol.CLIENT_ID_KEY: client_id, "status": status}

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            origin = web_session.page_origin(environ)
            if not self.origins.allows(origin):
                logger.warning("Refused a chat socket from origin %r.", str(origin)[:100])
                raise Refused(protocol.ORIGIN_NOT_ALLOWED)
            token = auth.get("token") if isinstance(auth, dict) else None
            invitation = auth.get("invite") if isinstance(auth, dict) else None
            subject, expires_at, binding = None, None, None
            if invitation is not None:
                binding = await self._bind_invitation(invitation)
                expires_at = binding.expires_at
            elif token:
                if self.tokens is None:
                    raise Refused(protocol.TOKENS_NOT_ACCEPTED)
                try:
                    claims = self.tokens.verify(token)
                except TokenError as error:
                    logger.info("Refused a chat socket: %s (%s).", error.reason, str(error)[:100])
                    raise Refused(error.reason) from error
                subject, expires_at = claims.subject, claims.expires_at
            elif self.require_token:
                raise Refused(protocol.TOKEN_REQUIRED)
            request = environ.get("sanic.request")
            address = web_session.client_address(
                getattr(request, "ip", None), environ.get("HTTP_X_FORWARDED_FOR") if request else None
            )
            session: dict[str, Any] = {
                "subject": subject,
                "expires_at": expires_at,
                "sender_id": None,
                "address": address,
            }
            if binding is not None:
                # Kept in the server's memory only: re-checked while the socket lives (_invitation_still_open).
                session.update(invite=binding, invite_credential=invitation, invite_checked_at=time.monotonic())
            await sio.save_session(sid, session, namespace=namespace)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            logger.debug("Chat socket %s disconnected.", sid)

        @sio.on(protocol.SESSION_REQUEST, namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            data = data if isinstance(data, dict) else {}
            subject = session.get("subject")
            requested = data.get("session_key") or data.get("session_id")
            binding: web_invite.InviteBinding | None = session.get("invite")
            if binding is not None:
                # Always the invitation's conversation, with its history (texts included); the key
                # the widget keeps resumes nothing else, and "start over" cannot leave it.
                key = self.keys.issue(f"invite:{binding.invitation_id}").key
                issued = IssuedSession(key=key, sender_id=binding.conversation_id, resumed=True)
            else:
                resumed = None if data.get("new") is True else self.keys.resume(requested, subject)
                issued = resumed or self.keys.issue(subject)
            previous = session.get("sender_id")
            if previous and previous != issued.sender_id:
                await sio.leave_room(sid, previous, namespace=namespace)
            # Joined before the history is read: a reply sent after the read reaches this socket.
            await sio.enter_room(sid, issued.sender_id, namespace=namespace)
            session["sender_id"] = issued.sender_id
            # The page's language: its first message starts a new conversation in it. A conversation that
            # has started keeps its own (the patient may have switched since); the page does not undo that.
            language = languages.supported(data.get(protocol.LANGUAGE_KEY))
            session["language"], session["language_unsent"] = language, language is not None and not issued.resumed
            await sio.save_session(sid, session, namespace=namespace)
            # Same event and payload as Rasa's channel: the id to send back next time.
            await sio.emit(protocol.SESSION_CONFIRM, issued.key, room=sid, namespace=namespace)
            events = await self._events(issued.sender_id) if issued.resumed else []
            if language is not None and issued.resumed and not events:  # resumed before its first message
                session["language_unsent"] = True
                await sio.save_session(sid, session, namespace=namespace)
            received = delivery.received_ids_from_events(events)
            self.received.remember(issued.sender_id, received)
            await sio.emit(
                protocol.SESSION_HISTORY,
                {"messages": web_session.history_from_events(events), "resumed": issued.resumed, "received": received},
                room=sid,
                namespace=namespace,
            )

        async def run_turn(message: UserMessage, client_id: str | None, language: str | None) -> None:
            """The assistant's turn; every reply goes to the conversation's room, then ``turn_complete``."""
            sender_id = message.sender_id
            try:
                await on_new_message(message)
            except Exception:  # keep the socket alive and tell the patient
                logger.exception("The assistant failed on a website message.")
                await reply(sender_id, own_text(language, "replies.error"), protocol.NOTICE_ERROR)
            finally:
                if client_id:
                    self.received.finish(sender_id, client_id)
                await turn_complete(sender_id, client_id)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> dict[str, Any]:
            """Check a message, start its turn and acknowledge it at once (the answer follows)."""
            session = await sio.get_session(sid, namespace=namespace)
            sender_id = session.get("sender_id")
            client_id = delivery.client_id_of(data)
            language: str | None = session.get("language")

            async def refuse(text: str, notice: str) -> dict[str, Any]:
                await reply(sid, text, notice)
                await turn_complete(sid, client_id)
                if client_id and sender_id:
                    self.received.finish(sender_id, client_id)
                return ack(client_id, protocol.ACK_REFUSED)

            if not sender_id:
                return await refuse(own_text(language, "replies.not_ready"), protocol.NOTICE_NOT_READY)
            binding: web_invite.InviteBinding | None = session.get("invite")
            leeway = self.tokens.leeway_seconds if self.tokens else 0
            ended = web_session.token_expired(session.get("expires_at"), time.time(), leeway)
            if ended or (binding is not None and not await self._invitation_still_open(sid, session)):
                expired = "replies.invite_expired" if binding is not None else "replies.token_expired"
                refused = await refuse(own_text(language, expired), protocol.NOTICE_TOKEN_EXPIRED)
                await sio.disconnect(sid, namespace=namespace)
                return refused
            if client_id:
                seen = self.received.receive(sender_id, client_id)
                if seen != "new":
                    # Sent again after a reconnect: acknowledged, not answered twice. A finished
                    # turn's end is repeated for this socket; a running one ends in the room.
                    if seen == "done":
                        await turn_complete(sid, client_id)
                    return ack(client_id, protocol.ACK_DUPLICATE)
            if not self.limits.allow(sender_id, session.get("address")):
                return await refuse(own_text(language, "replies.too_fast"), protocol.NOTICE_TOO_FAST)
            text = data.get("message") if isinstance(data, dict) else None
            frame_chars = data.get(web_session.OVERSIZED_KEY) if isinstance(data, dict) else None
            with languages.use(language or languages.ENGLISH):
                refusal = web_session.check_message(text, self.max_message_chars, frame_chars)
            if refusal is not None:
                return await refuse(refusal, protocol.NOTICE_REFUSED)
            metadata: dict[str, Any] = {"channel": "web"}
            if binding is not None:
                metadata[PATIENT_ID_KEY], metadata[IDENTITY_KEY] = binding.patient_ref, binding.identity
            elif session.get("subject"):
                metadata[PATIENT_ID_KEY], metadata[IDENTITY_KEY] = session["subject"], IDENTITY_PORTAL
            if client_id:
                metadata[protocol.CLIENT_ID_KEY] = client_id
            if session.get("address"):  # the server's own reading, for counting repeated emergency flags
                metadata[CLIENT_ADDRESS_KEY] = session["address"]
            if binding is not None:  # the invitation's language, as its texts carry it (bot/channels/sms/invited.py)
                metadata.update(language_metadata(binding.language))
            elif language and session.get("language_unsent"):  # read when the session starts (actions/session.py)
                metadata[languages.METADATA_KEY] = language
                session["language_unsent"] = False
                await sio.save_session(sid, session, namespace=namespace)
            message = UserMessage(
                str(text).strip(),
                SocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            self._start_turn(run_turn(message, client_id, language))
            return ack(client_id, protocol.ACK_RECEIVED)

        return blueprint


class _Body:
    """A request body Engine.IO reads, as its Sanic driver provides one."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    async def read(self, length: int | None = None) -> bytes:
        chunk = self.payload if length is None else self.payload[:length]
        self.payload = b"" if length is None else self.payload[length:]
        return chunk
