/**
 * `permit(action)`: the express face of the policy module. Every /api/v1 route names its
 * action; the policy decides, and a refusal is a 403 carrying the policy's reason.
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import { decide, type Action, type CoveringCandidate, type Decision, type PolicyContext } from '../access/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import type { Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';

/** What `permit` needs besides the request: set once on the app by `usePolicy`. */
export interface PolicySetup {
  profile: JurisdictionProfile;
  /** The principal's approved requests (for footage actions); absent: none. */
  candidates?: (principal: Principal) => Promise<CoveringCandidate[]>;
}

const SETUP_KEY = 'accessPolicy';

export function usePolicy(app: Express, setup: PolicySetup): void {
  app.locals[SETUP_KEY] = setup;
}

// Taking the request loosely lets `permit` sit before a handler of any route's parameters.
type AnyRequest = Request<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- sits before handlers of any route's parameters
type AnyHandler = RequestHandler<any>;
type ActionOf = Action | ((req: AnyRequest) => Action | readonly Action[]);
type Extra = Omit<PolicyContext, 'profile' | 'requests'>;
type ContextOf = (req: AnyRequest, res: Response) => Extra | Promise<Extra>;

/** The principal the authentication middleware set; none is a 401. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new GatewayError('UNAUTHORIZED', 'This call needs an authenticated caller.');
  return principal;
}

/**
 * Allows the call only when the policy allows every action named (a function may pick
 * them from the request, e.g. a camera change that touches masks). A footage action's
 * exemption or covering request is left in `res.locals.permit` for the register.
 */
const PERMIT = Symbol('permit');

/** True for a handler made by `permit` (a test walks the routes: none may lack one). */
export function isPermit(handler: unknown): boolean {
  return typeof handler === 'function' && PERMIT in handler;
}

export function permit(action: ActionOf, context?: ContextOf): AnyHandler {
  return Object.assign(permitHandler(action, context), { [PERMIT]: true });
}

function permitHandler(action: ActionOf, context?: ContextOf): AnyHandler {
  return (req, res, next) => {
    void (async () => {
      const actions = typeof action === 'function' ? [action(req)].flat() : [action];
      const extra = (await context?.(req, res)) ?? {};
      const decisions = [];
      for (const a of actions) {
        const decision = await decideFor(req, res, a, extra);
        if (!decision.allowed) throw new GatewayError('FORBIDDEN', decision.reason);
        decisions.push(decision);
      }
      res.locals.permit = decisions;
    })().then(() => next(), next);
  };
}

/** The policy's decision on one action of this call's principal, for a route that adapts its answer (not a refusal). */
export async function decideFor(req: AnyRequest, res: Response, action: Action, extra: Extra = {}): Promise<Decision> {
  const setup = req.app.locals[SETUP_KEY] as PolicySetup | undefined;
  if (setup === undefined) throw new Error('permit() used on an app without usePolicy()');
  const principal = principalOf(res);
  const footage = action === 'live.raw' || action === 'recorded.view' || action === 'export';
  const requests = footage && setup.candidates ? await setup.candidates(principal) : [];
  return decide(principal, action, { ...extra, profile: setup.profile, requests });
}
