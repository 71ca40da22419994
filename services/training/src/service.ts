import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { Clock } from './clock';
import { trainingConfig, type TrainingConfig } from './config';
import { ENTITIES } from './data/entities';
import { migrations } from './data/migrations';
import { createRepositories } from './data/repositories';
import { resolvers } from './resolvers';
import { AttendanceService } from './services/attendance';
import { ChangeRequestService } from './services/change-requests';
import { ClassPlanService } from './services/class-plans';
import { CompletionService } from './services/completion';
import { Access, type Deps } from './services/context';
import { EnrollmentService } from './services/enrollments';
import { EvaluationService } from './services/evaluations';
import { InstitutionService } from './services/institutions';
import { OperatorService } from './services/operators';
import { QrSigner, qrKey } from './services/qr';

export * from './permissions';

export interface TrainingServices {
  config: TrainingConfig;
  /** Test hook: integration tests move it to run a class's sessions and end. */
  clock: Clock;
  access: Access;
  institutions: InstitutionService;
  operators: OperatorService;
  changeRequests: ChangeRequestService;
  classPlans: ClassPlanService;
  enrollments: EnrollmentService;
  attendance: AttendanceService;
  completion: CompletionService;
  evaluations: EvaluationService;
}

export const training = defineService<TrainingServices, TrainingConfig>({
  name: 'training',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: trainingConfig,
  entities: ENTITIES,
  migrations,
  services: ({ ds, config }) => {
    const repos = createRepositories(ds);
    const deps: Deps = { ds, repos, clock: new Clock(), config };
    const access = new Access(repos);
    const qr = new QrSigner(
      qrKey(config.CLASS_QR_SECRET, config.INTERNAL_AUTH_SECRET),
      config.CLASS_QR_TTL_S,
    );
    return {
      config,
      clock: deps.clock,
      access,
      institutions: new InstitutionService(deps, access),
      operators: new OperatorService(deps, access),
      changeRequests: new ChangeRequestService(deps, access),
      classPlans: new ClassPlanService(deps, access),
      enrollments: new EnrollmentService(deps, access),
      attendance: new AttendanceService(deps, access, qr),
      completion: new CompletionService(deps),
      evaluations: new EvaluationService(deps, access),
    };
  },
});
