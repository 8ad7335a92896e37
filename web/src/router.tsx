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
