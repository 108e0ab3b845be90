import { Suspense, createContext, lazy, useCallback, useContext, useEffect, useState } from 'react';
import { AppShell, Burger, Button, Center, Group, Loader, NavLink, Switch, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { ApiError, type Agent, type Principal, api, apiKey, setApiKey, toPrincipal } from './api';
import { linkProps, navigate, usePath } from './router';
import { startLive, stopLive, useLiveMode } from './live';
import { SignInPage } from './pages/SignIn';
import { InboxPage } from './pages/Inbox';

// The inbox is what most people open; the admin pages load on first use.
const SettingsPage = lazy(() => import('./pages/Settings').then((m) => ({ default: m.SettingsPage })));
const AgentsPage = lazy(() => import('./pages/Agents').then((m) => ({ default: m.AgentsPage })));
const SatisfactionPage = lazy(() => import('./pages/Satisfaction').then((m) => ({ default: m.SatisfactionPage })));
const NumbersPage = lazy(() => import('./pages/Numbers').then((m) => ({ default: m.NumbersPage })));
const ApiKeysPage = lazy(() => import('./pages/ApiKeys').then((m) => ({ default: m.ApiKeysPage })));
const WebhooksPage = lazy(() => import('./pages/Webhooks').then((m) => ({ default: m.WebhooksPage })));

interface SessionState {
  principal: Principal;
  signOut(): void;
}

const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

export function App() {
  const [principal, setPrincipal] = useState<Principal | null | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      setPrincipal(toPrincipal(await api.get('/session')));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && apiKey()) {
        // A server without sessions, signed in with an admin API key.
        setPrincipal({ kind: 'key', login: 'API key', name: null, role: 'admin', agentId: null });
      } else {
        setPrincipal(null);
      }
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const signOut = useCallback(() => {
    stopLive();
    const hadKey = apiKey();
    setApiKey(null);
    void (hadKey ? Promise.resolve() : api.del('/session').catch(() => undefined)).then(() => {
      setPrincipal(null);
      navigate('/sign-in', true);
    });
  }, []);

  if (principal === undefined)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  if (principal === null)
    return (
      <SignInPage
        onSignedIn={(p) => {
          setPrincipal(p);
          if (location.pathname === '/sign-in' || location.pathname === '/') navigate('/inbox', true);
        }}
      />
    );
  return (
    <SessionContext.Provider value={{ principal, signOut }}>
      <Shell />
    </SessionContext.Provider>
  );
}

const WEBHOOKS_PATH = '/webhook-subscriptions';

const NAV = [
  { to: '/inbox', label: 'Inbox', admin: false },
  { to: '/numbers', label: 'Numbers & settings', admin: true },
  { to: '/agents', label: 'Agents', admin: true },
  { to: '/satisfaction', label: 'Satisfaction', admin: false },
  // Not /webhooks: that prefix is the server's (Meta's /webhooks/whatsapp), never a client route.
  { to: WEBHOOKS_PATH, label: 'Webhooks', admin: true },
  { to: '/api-keys', label: 'API keys', admin: true },
];

function Shell() {
  const { principal, signOut } = useSession();
  const path = usePath();
  const [opened, { toggle, close }] = useDisclosure();
  const live = useLiveMode();
  useEffect(() => startLive(), []);
  useEffect(() => close(), [path, close]);

  const isAdmin = principal.role === 'admin';
  const pathname = path.split('?')[0];
  let page;
  const settingsMatch = /^\/numbers\/([^/]+)\/settings$/.exec(pathname);
  if (pathname === '/' || pathname === '/sign-in' || pathname.startsWith('/inbox')) page = <InboxPage path={pathname} />;
  else if (settingsMatch) page = isAdmin ? <SettingsPage phoneNumberId={decodeURIComponent(settingsMatch[1])} /> : <Forbidden />;
  else if (pathname === '/numbers') page = isAdmin ? <NumbersPage /> : <Forbidden />;
  else if (pathname === '/agents') page = isAdmin ? <AgentsPage /> : <Forbidden />;
  else if (pathname === '/satisfaction') page = <SatisfactionPage />;
  else if (pathname === '/api-keys') page = isAdmin ? <ApiKeysPage /> : <Forbidden />;
  else if (pathname === WEBHOOKS_PATH) page = isAdmin ? <WebhooksPage /> : <Forbidden />;
  else page = <NotFound />;

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4" style={{ whiteSpace: 'nowrap' }}>
              Inbox Autopilot
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {principal.agentId ? <OwnStatusSwitch agentId={principal.agentId} /> : null}
            <Text size="xs" c="dimmed" visibleFrom="sm" aria-live="polite" data-testid="live-mode">
              {live === 'live' ? 'Live' : live === 'polling' ? 'Refreshing every 3 s' : 'Connecting…'}
            </Text>
            <Button variant="subtle" size="compact-sm" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <nav aria-label="Main navigation">
          {NAV.filter((n) => isAdmin || !n.admin).map((n) => (
            <NavLink
              key={n.to}
              component="a"
              {...linkProps(n.to)}
              label={n.label}
              variant="filled"
              active={pathname.startsWith(n.to)}
              aria-current={pathname.startsWith(n.to) ? 'page' : undefined}
            />
          ))}
        </nav>
        <Text size="xs" c="dimmed" mt="auto" p="xs">
          Signed in as {principal.name ?? principal.login} ({principal.role})
        </Text>
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Loader aria-label="Loading the page" />}>{page}</Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

/** The agent's own online/offline switch (PUT /api/agents/{id}/status). */
function OwnStatusSwitch({ agentId }: { agentId: string }) {
  const [status, setStatus] = useState<'online' | 'offline' | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<Agent>(`/agents/${encodeURIComponent(agentId)}`)
      .then((a) => setStatus(a.status))
      .catch(() => setStatus(null));
  }, [agentId]);
  if (status === null) return null;
  return (
    <Switch
      label={status === 'online' ? 'Online' : 'Offline'}
      checked={status === 'online'}
      error={error ?? undefined}
      onChange={(e) => {
        const next = e.currentTarget.checked ? 'online' : 'offline';
        setError(null);
        api
          .put(`/agents/${encodeURIComponent(agentId)}/status`, { status: next })
          .then(() => setStatus(next))
          .catch((err: Error) => setError(err.message));
      }}
      aria-label="Online status"
    />
  );
}

function Forbidden() {
  return (
    <div role="alert">
      <Title order={2}>Not allowed</Title>
      <Text>This page is for admins. Your account can use the inbox.</Text>
    </div>
  );
}

function NotFound() {
  return (
    <div>
      <Title order={2}>Page not found</Title>
      <a {...linkProps('/inbox')}>Go to the inbox</a>
    </div>
  );
}
