import { useState } from 'react';
import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { ApiError, type Principal, api, setApiKey, toPrincipal } from '../api';

export function SignInPage({ onSignedIn }: { onSignedIn(p: Principal): void }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const [useKey, setUseKey] = useState(false);
  // API-key sign-in is offered only by servers without password sign-in (no /api/session).
  const [keyAllowed, setKeyAllowed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (useKey) {
        setApiKey(key.trim());
        try {
          await api.get('/agents');
        } catch (err) {
          setApiKey(null);
          throw err;
        }
        onSignedIn({ kind: 'key', login: 'API key', name: null, role: 'admin', agentId: null });
        return;
      }
      const answer = await api.post('/session', { login, password });
      onSignedIn(toPrincipal(answer));
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        setError(`Too many failed attempts. Try again ${err.retryAfter ? `in ${Math.ceil(err.retryAfter / 60)} min` : 'later'}.`);
      } else if (err instanceof ApiError && err.status === 401) {
        setError(useKey ? 'That API key is not valid.' : 'Wrong login or password.');
      } else if (err instanceof ApiError && err.status === 404 && !useKey) {
        setUseKey(true);
        setKeyAllowed(true);
        setError('This server does not offer password sign-in yet: sign in with an admin API key.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={380}>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <Stack>
            <Title order={1} size="h3">
              Sign in to Inbox Autopilot
            </Title>
            {error ? (
              <Alert color="red" role="alert" title="Sign-in failed">
                {error}
              </Alert>
            ) : null}
            {useKey ? (
              <PasswordInput label="API key" value={key} onChange={(e) => setKey(e.currentTarget.value)} required autoComplete="off" />
            ) : (
              <>
                <TextInput label="Login" value={login} onChange={(e) => setLogin(e.currentTarget.value)} required autoComplete="username" />
                <PasswordInput
                  label="Password"
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  required
                  autoComplete="current-password"
                />
              </>
            )}
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
            {keyAllowed ? (
              <Anchor component="button" type="button" size="sm" onClick={() => setUseKey(!useKey)}>
                {useKey ? 'Sign in with a password' : 'Use an API key instead'}
              </Anchor>
            ) : null}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
