// media-session.js — OS media keys and lock-screen controls: metadata (title, voice),
// play/pause/previous/next/seek actions, and the position state.

export function bindMediaSession(engine, { artwork = [] } = {}) {
  const ms = globalThis.navigator && navigator.mediaSession;
  if (!ms) return () => {};
  const set = (action, fn) => { try { ms.setActionHandler(action, fn); } catch { /* unsupported */ } };
  set('play', () => engine.play());
  set('pause', () => engine.pause());
  set('stop', () => engine.stop());
  set('previoustrack', () => engine.prev());
  set('nexttrack', () => engine.next());
  set('seekbackward', () => engine.prev());
  set('seekforward', () => engine.next());
  set('seekto', null);

  let title = null;
  let voice = null;
  let lastPos = 0;
  const unsubscribe = engine.subscribe((s) => {
    if (s.title !== title || s.voice !== voice) {
      title = s.title;
      voice = s.voice;
      if (s.docId !== null && typeof MediaMetadata === 'function') {
        ms.metadata = new MediaMetadata({ title: s.title || 'Untitled', artist: 'recite', album: `${s.model} · ${s.voice}`, artwork });
      }
    }
    ms.playbackState = s.playState === 'playing' ? 'playing' : s.playState === 'stopped' ? 'none' : 'paused';
    const now = Date.now();
    if (now - lastPos > 1000 || s.playState !== 'playing') {
      lastPos = now;
      const duration = s.totalMs / 1000;
      if (duration > 0 && ms.setPositionState) {
        try {
          ms.setPositionState({ duration, playbackRate: s.speed, position: Math.min(duration, s.elapsedMs / 1000) });
        } catch { /* invalid while loading */ }
      }
    }
  });
  return () => {
    unsubscribe();
    for (const a of ['play', 'pause', 'stop', 'previoustrack', 'nexttrack', 'seekbackward', 'seekforward']) set(a, null);
    ms.metadata = null;
    ms.playbackState = 'none';
  };
}
