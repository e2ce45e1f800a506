/**
 * Redis pub/sub channel on which ateapi announces `<atespace>/<actor>` whenever an actor stops RUNNING
 * (suspend, pause, worker lost, recovery), before its worker is freed. Routers drop their cached route to
 * the actor's worker and close their connections to it.
 */
export const ACTOR_CHANGES_CHANNEL = 'ate:actor-changes';
