import { Router } from 'express';
import { methodNotAllowed } from '../error-responses.ts';
import { renderCallPage } from './call-page.ts';
import { renderIndexPage } from './index-page.ts';
import { parseCallsQuery } from './status-model.ts';
import type { StatusSources } from './status-model.ts';
import { CALL_SID_RE, CALL_SID_RULE } from '../../samples/ids.ts';


/** `GET /` (the status page) and `GET /calls/{CallSid}`, rendered from memory. */
export function statusRoutes(src: StatusSources): Router {
  const router = Router();
  router.route('/').get((req, res) => {
    const query = parseCallsQuery(req.query, src.accounts().map((a) => a.accountSid));
    if ('error' in query) {
      res.status(400).type('text/plain').send(`bad query: ${query.error}\n`);
      return;
    }
    res.set('Cache-Control', 'no-store').type('html').send(renderIndexPage(src, query));
  }).all(methodNotAllowed('GET'));
  router.route('/calls/:callSid').get((req, res) => {
    const callSid = req.params.callSid;
    if (!CALL_SID_RE.test(callSid)) {
      res.status(400).type('text/plain').send(`bad CallSid: ${CALL_SID_RULE}\n`);
      return;
    }
    const body = renderCallPage(src, callSid);
    if (body === undefined) {
      res.status(404).type('text/plain').send('call not known to this exporter\n');
      return;
    }
    res.set('Cache-Control', 'no-store').type('html').send(body);
  }).all(methodNotAllowed('GET'));
  return router;
}
