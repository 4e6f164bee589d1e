import { lambdaHandler } from './lambda-handler';

export const handler = lambdaHandler('ListVectors');
