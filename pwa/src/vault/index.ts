export * from './vault';
export { getSealed, putSealed } from './store';
