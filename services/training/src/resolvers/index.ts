import { AttendanceRecord, Enrollment, Evaluation, Person } from './enrollment';
import { Institution, InstitutionChangeRequest, Operator } from './institution';
import { Mutation } from './mutation';
import { Query } from './query';
import { Course, TrainingClass, TrainingSession } from './training-class';

export const resolvers = {
  Query,
  Mutation,
  Institution,
  Operator,
  InstitutionChangeRequest,
  TrainingClass,
  TrainingSession,
  Course,
  Enrollment,
  AttendanceRecord,
  Evaluation,
  Person,
};
