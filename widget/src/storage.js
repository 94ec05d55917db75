// Browser storage that never throws: private modes and strict privacy settings
// make localStorage raise, and the chat must still work (just without resuming).

function probe(kind) {
  try {
    const store = window[kind];
    const key = "__clinic_chat_probe__";
    store.setItem(key, "1");
    store.removeItem(key);
    return store;
  } catch {
    return null;
  }
}

/**
 * What the widget remembers for one chat server: the session key (localStorage,
 * so a closed tab resumes) and whether the panel was open (sessionStorage, so a
 * reload reopens it but a visit next week does not pop it open).
 * @param {string} serverUrl
 */
export function createStore(serverUrl) {
  const local = probe("localStorage");
  const session = probe("sessionStorage");
  const prefix = `clinicChat:v1:${serverUrl}:`;
  const read = (store, name) => {
    try {
      return store ? store.getItem(prefix + name) : null;
    } catch {
      return null;
    }
  };
  const write = (store, name, value) => {
    try {
      if (!store) return;
      if (value === null) store.removeItem(prefix + name);
      else store.setItem(prefix + name, value);
    } catch {
      /* storage full or blocked: the chat goes on without it */
    }
  };
  return {
    sessionKey: () => read(local, "session"),
    setSessionKey: (key) => write(local, "session", key),
    started: () => read(local, "started"),
    setStarted: (key) => write(local, "started", key),
    wasOpen: () => read(session, "open") === "1",
    setOpen: (open) => write(session, "open", open ? "1" : null),
    forget: () => {
      write(local, "session", null);
      write(local, "started", null);
    },
  };
}
