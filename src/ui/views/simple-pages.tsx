import type { Session } from '../session';
import { Layout } from './layout';
import { Csrf } from './parts';

/** The second step of every action: what will happen, and the button that does it. */
export function ConfirmPage(props: { session: Session; title: string; question: string; action: string; reason: string; back: string }) {
  return (
    <Layout title={props.title} session={props.session}>
      <h1>{props.title}</h1>
      <p>{props.question}</p>
      <p>
        Recorded as done by <strong>{props.session.name}</strong> because: <q>{props.reason}</q>
      </p>
      <form method="post" action={props.action} class="inline">
        <Csrf token={props.session.csrf} />
        <input type="hidden" name="reason" value={props.reason} />
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit">Yes, {props.title.toLowerCase()}</button> <a href={props.back}>Cancel</a>
      </form>
    </Layout>
  );
}

export function ErrorPage({ status, message, session }: { status: number; message: string; session?: Session }) {
  return (
    <Layout title={`Error ${status}`} session={session}>
      <h1>{status === 404 ? 'Not found' : `Error ${status}`}</h1>
      <p>{message}</p>
      <p>
        <a href="/ui/">Back to the overview</a>
      </p>
    </Layout>
  );
}
