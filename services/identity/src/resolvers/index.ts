import { adminResolvers } from './admin';
import { peopleResolvers } from './people';
import { regionResolvers } from './regions';
import { sessionResolvers } from './sessions';

export const resolvers = {
  Query: { ...regionResolvers.Query, ...peopleResolvers.Query, ...adminResolvers.Query },
  Mutation: { ...peopleResolvers.Mutation, ...sessionResolvers.Mutation, ...adminResolvers.Mutation },
  Region: regionResolvers.Region,
  Person: peopleResolvers.Person,
  SocialSecurityCard: peopleResolvers.SocialSecurityCard,
  Department: adminResolvers.Department,
  Role: adminResolvers.Role,
  StaffUser: adminResolvers.StaffUser,
  MachineClient: adminResolvers.MachineClient,
  AuditRecord: adminResolvers.AuditRecord,
};
