// What the widget sends when its socket connects, and where it keeps its session.
import assert from "node:assert/strict";
import { test } from "node:test";
import { socketAuth, storeName } from "../src/auth.js";

test("an invitation link's credential is sent as invite, and wins over a portal token", () => {
  assert.deepEqual(socketAuth({ invite: "inv1.1765000000.sig", patientToken: "" }), { invite: "inv1.1765000000.sig" });
  assert.deepEqual(socketAuth({ invite: "b1.inv1.1765000000.sig", patientToken: "jwt" }), {
    invite: "b1.inv1.1765000000.sig",
  });
});

test("a portal token is sent as token, and nothing without either", () => {
  assert.deepEqual(socketAuth({ invite: "", patientToken: "jwt" }), { token: "jwt" });
  assert.deepEqual(socketAuth({ invite: "", patientToken: "" }), {});
  assert.deepEqual(socketAuth(), {});
});

test("an invitation's chat keeps its session apart from the site's own chat", () => {
  assert.equal(storeName("https://chat.clinic.org"), "https://chat.clinic.org");
  assert.equal(storeName("https://chat.clinic.org", "inv1.1765000000.sig"), "https://chat.clinic.org#invite");
});
