import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The app lives under /app; the server answers index.html for every path below it (SPA fallback). */
const BASE = '/app';
const current = () => location.pathname.replace(/^\/app/, '') || '/';

export function navigate(path: string) {
  history.pushState(null, '', BASE + path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The path below /app, re-rendering on navigation (links and the back button). */
export function usePath() {
  const [path, setPath] = useState(current());
  useEffect(() => {
    const update = () => setPath(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return path;
}

/** A real link (middle-click and keyboard work) that navigates without reloading. */
export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  const { to, children, ...rest } = props;
  return (
    <a
      href={BASE + to}
      {...rest}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/**
 * The token of a mailed link (`/app/#/reset?token=…`, `/app/#/verify?token=…`) when the page was opened
 * from one for `route`, else null. The links carry the token after `#`, so it never reaches a server log.
 */
export function hashToken(route: 'reset' | 'verify'): string | null {
  if (!location.hash.startsWith(`#/${route}?`)) return null;
  return new URLSearchParams(location.hash.slice(location.hash.indexOf('?') + 1)).get('token');
}

/** Leaves a mailed link's route (drops the `#…` part, token included) without reloading. */
export function clearHashRoute() {
  history.replaceState(null, '', location.pathname + location.search);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
