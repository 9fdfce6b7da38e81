import { openApiDocument, type Operation } from '@devpie/http-kit';
import { signinBody, signupBody } from './routes/auth';
import { memberBody, rolePatch, teamBody } from './routes/teams';
import { profilePatch } from './routes/users';

const operations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/auth/signup',
    summary: 'Sign up; waits for the user and answers with a token',
    body: signupBody,
    auth: false,
    write: true,
    responses: {
      201: '{token, user}',
      202: 'accepted, not yet visible',
      400: 'invalid body or weak password',
      409: 'EmailTaken',
    },
  },
  {
    method: 'post',
    path: '/api/v1/auth/signin',
    summary: 'Sign in',
    body: signinBody,
    auth: false,
    responses: {
      200: '{token, user}',
      400: 'invalid body',
      401: 'wrong email or password',
      429: 'rate limited',
    },
  },
  {
    method: 'get',
    path: '/api/v1/users/me',
    summary: 'My profile',
    responses: { 200: 'user', 401: 'no valid token' },
  },
  {
    method: 'patch',
    path: '/api/v1/users/me',
    summary: 'Change my profile',
    body: profilePatch,
    write: true,
    responses: { 200: 'user (with Prefer: wait)', 202: '{commandId, id}', 400: 'invalid body' },
  },
  {
    method: 'post',
    path: '/api/v1/teams',
    summary: 'Add a team; I become its administrator',
    body: teamBody,
    write: true,
    responses: { 201: 'team (with Prefer: wait)', 202: '{commandId, id}', 400: 'invalid body' },
  },
  {
    method: 'get',
    path: '/api/v1/teams',
    summary: 'The teams I belong to, with my role',
    responses: { 200: '{items}' },
  },
  {
    method: 'get',
    path: '/api/v1/teams/:teamId/memberships',
    summary: 'Members of a team I belong to',
    responses: { 200: '{items}', 404: 'no such team (or not mine)' },
  },
  {
    method: 'post',
    path: '/api/v1/teams/:teamId/memberships',
    summary: 'Add a member (administrators)',
    body: memberBody,
    write: true,
    responses: {
      201: 'membership',
      202: '{commandId, id}',
      403: 'not an administrator',
      409: 'AlreadyMember',
      422: 'unknown user',
    },
  },
  {
    method: 'patch',
    path: '/api/v1/teams/:teamId/memberships/:membershipId',
    summary: 'Change a role (administrators)',
    body: rolePatch,
    write: true,
    responses: {
      200: 'membership',
      202: '{commandId, id}',
      403: 'not an administrator',
      422: 'LastAdministrator',
    },
  },
  {
    method: 'delete',
    path: '/api/v1/teams/:teamId/memberships/:membershipId',
    summary: 'Remove a member (administrators)',
    write: true,
    responses: {
      204: 'removed',
      202: '{commandId, id}',
      403: 'not an administrator',
      422: 'LastAdministrator',
    },
  },
  {
    method: 'get',
    path: '/api/v1/commands/:commandId',
    summary: "A command's status: pending, accepted or rejected (with reason)",
    responses: { 200: 'status', 404: 'unknown (or not mine)' },
  },
];

export const identityOpenApi = openApiDocument(
  { title: 'Devpie Identity', version: '1.0.0', description: 'Users, sign-up/in, teams and memberships' },
  operations,
);
