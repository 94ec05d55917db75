// How the widget introduces itself to the chat server, from its script tag's settings.
//
// A page opened from the clinic's text message (/i/<link>, bot/channels/web/invite_page.py)
// sets data-invite: the socket then joins that invitation's conversation, the one its
// texts are in. A clinic portal sets data-patient-token instead. Neither: an anonymous chat.

/** What the socket's connect sends: the invitation's credential, else the portal's token, else nothing. */
export function socketAuth({ invite = "", patientToken = "" } = {}) {
  if (invite) return { invite };
  if (patientToken) return { token: patientToken };
  return {};
}

/**
 * The name the widget keeps its session under. An invitation's chat is kept apart from
 * the site's own chat, so neither tries to resume the other's conversation.
 */
export function storeName(serverUrl, invite = "") {
  return invite ? `${serverUrl}#invite` : serverUrl;
}
