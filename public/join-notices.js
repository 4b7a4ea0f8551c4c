// Keeps a student's join page up to date without the wasm: it listens to the page's notices
// (`/api/join_events/<session>`: a re-check has started, the session has ended, the teacher
// changed this student's record) and reads the page again on each. Without this script,
// opening the link again shows the same.
(() => {
  if (window.attnJoinNotices || !window.EventSource) return;
  window.attnJoinNotices = true;
  const session = location.pathname.split('/')[2];
  if (!session) return;
  const events = new EventSource(`/api/join_events/${encodeURIComponent(session)}`);
  events.onmessage = () => {
    // Not while a passkey check is under way: its own answer is on its way.
    if (document.querySelector('form[data-busy]')) return;
    const url = new URL(location.href);
    // An old refusal is not news any more.
    url.searchParams.delete('error');
    url.searchParams.delete('retry');
    events.close();
    location.replace(url);
  };
})();
