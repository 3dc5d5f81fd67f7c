import { Layout } from './layout';

export function LoginPage({ error, next, name }: { error?: string; next: string; name?: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      <p>Use the admin token (ADMIN_TOKEN). Your name is recorded with every pause, resume and replay you make.</p>
      {error && (
        <p class="banner bad" role="alert">
          {error}
        </p>
      )}
      <form method="post" action="/ui/login" class="stack">
        <input type="hidden" name="next" value={next} />
        <label>
          Your name
          <input name="name" required maxLength={100} autocomplete="name" value={name ?? ''} />
        </label>
        <label>
          Admin token
          <input name="token" type="password" required autocomplete="current-password" />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
