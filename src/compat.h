/*-------------------------------------------------------------------------
 *
 * compat.h
 *		  Every difference between the PostgreSQL major versions civis_fdw
 *		  builds against, in one place.
 *
 * Tested in CI: 15 (Debian 12), 17 (Debian 13) and 18 (Debian unstable).
 * The guards for 16 are kept although no Debian suite ships it, and the
 * older ones (13, 14) are kept as they were.  The rest of the source uses
 * the names defined here and carries no PG_VERSION_NUM test of its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_COMPAT_H
#define CIVIS_COMPAT_H

#include "commands/explain.h"
#if PG_VERSION_NUM >= 140000
#include "utils/wait_event.h"
#else
#include "pgstat.h"
#endif

/* 18 moved EXPLAIN's output helpers and ExplainState out of explain.h */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * A function that never returns, written in front of the declaration:
 * CIVIS_NORETURN extern void f(...).  18 replaced the trailing
 * pg_attribute_noreturn() by a leading pg_noreturn.
 */
#if PG_VERSION_NUM >= 180000
#define CIVIS_NORETURN pg_noreturn
#elif defined(__GNUC__) || defined(__SUNPRO_C)
#define CIVIS_NORETURN __attribute__((noreturn))
#elif defined(_MSC_VER)
#define CIVIS_NORETURN __declspec(noreturn)
#else
#define CIVIS_NORETURN
#endif

/*
 * Foreign paths.  A path that cannot run (a path parameter has no value) is
 * kept but marked disabled: 18 counts disabled nodes apart from the cost
 * (disabled_nodes), so such a path loses to any enabled one whatever the
 * costs; before 18 disable_cost is added to its costs instead.  17 added
 * fdw_restrictinfo (civis_fdw passes none).
 */
#if PG_VERSION_NUM >= 180000
#define civis_create_foreignscan_path(root, rel, rows, disabled, startup, total, pathkeys, required_outer) \
	create_foreignscan_path((root), (rel), NULL, (rows), (disabled) ? 1 : 0, \
							(startup), (total), (pathkeys), (required_outer), \
							NULL, NIL, NIL)
#define civis_create_foreign_upper_path(root, rel, target, rows, startup, total, pathkeys) \
	create_foreign_upper_path((root), (rel), (target), (rows), 0, \
							  (startup), (total), (pathkeys), NULL, NIL, NIL)
#elif PG_VERSION_NUM >= 170000
#define civis_create_foreignscan_path(root, rel, rows, disabled, startup, total, pathkeys, required_outer) \
	create_foreignscan_path((root), (rel), NULL, (rows), \
							(startup) + ((disabled) ? disable_cost : 0), \
							(total) + ((disabled) ? disable_cost : 0), \
							(pathkeys), (required_outer), NULL, NIL, NIL)
#define civis_create_foreign_upper_path(root, rel, target, rows, startup, total, pathkeys) \
	create_foreign_upper_path((root), (rel), (target), (rows), \
							  (startup), (total), (pathkeys), NULL, NIL, NIL)
#else
#define civis_create_foreignscan_path(root, rel, rows, disabled, startup, total, pathkeys, required_outer) \
	create_foreignscan_path((root), (rel), NULL, (rows), \
							(startup) + ((disabled) ? disable_cost : 0), \
							(total) + ((disabled) ? disable_cost : 0), \
							(pathkeys), (required_outer), NULL, NIL)
#define civis_create_foreign_upper_path(root, rel, target, rows, startup, total, pathkeys) \
	create_foreign_upper_path((root), (rel), (target), (rows), \
							  (startup), (total), (pathkeys), NULL, NIL)
#endif

/*
 * 18: a path key's sort direction is a CompareType (pk_cmptype) instead of
 * a btree strategy; ExecGetRangeTableRelation says whether the relation is
 * a result relation; vacuum_delay_point says whether it is called by
 * ANALYZE.
 */
#if PG_VERSION_NUM >= 180000
#define civis_pathkey_ascending(pk) ((pk)->pk_cmptype == COMPARE_LT)
#define civis_pathkey_descending(pk) ((pk)->pk_cmptype == COMPARE_GT)
#define civis_exec_get_rt_relation(estate, rti) \
	ExecGetRangeTableRelation((estate), (rti), false)
#define civis_analyze_delay_point() vacuum_delay_point(true)
#else
#define civis_pathkey_ascending(pk) ((pk)->pk_strategy == BTLessStrategyNumber)
#define civis_pathkey_descending(pk) ((pk)->pk_strategy == BTGreaterStrategyNumber)
#define civis_exec_get_rt_relation(estate, rti) \
	ExecGetRangeTableRelation((estate), (rti))
#define civis_analyze_delay_point() vacuum_delay_point()
#endif

/* 16 split the base relations out of fs_relids */
#if PG_VERSION_NUM >= 160000
#define civis_fs_base_relids(fsplan) ((fsplan)->fs_base_relids)
#else
#define civis_fs_base_relids(fsplan) ((fsplan)->fs_relids)
#endif

/* 16 records the user to check permissions as in the plan, not the RTE */
#if PG_VERSION_NUM >= 160000
#define civis_check_as_user(node, rtindex) \
	(((ForeignScan *) (node)->ss.ps.plan)->checkAsUser)
#else
#define civis_check_as_user(node, rtindex) \
	(exec_rt_fetch((rtindex), (node)->ss.ps.state)->checkAsUser)
#endif

/* ... and, at plan time, in the RelOptInfo (userid), not only the RTE */
#if PG_VERSION_NUM >= 160000
#define civis_planned_check_as_user(root, baserel) ((baserel)->userid)
#else
#define civis_planned_check_as_user(root, baserel) \
	(planner_rt_fetch((baserel)->relid, (root))->checkAsUser)
#endif

/* 13 added LIMIT ... WITH TIES; 14 named count(*)'s OID; 15 made
 * tuplesort's random-access argument a set of flags */
#if PG_VERSION_NUM >= 130000
#define civis_limit_with_ties(parse) \
	((parse)->limitOption == LIMIT_OPTION_WITH_TIES)
#else
#define civis_limit_with_ties(parse) false
#endif
#if PG_VERSION_NUM >= 140000
#define CIVIS_COUNT_STAR_OID F_COUNT_
#else
#define CIVIS_COUNT_STAR_OID 2803	/* count(*) */
#endif
#if PG_VERSION_NUM >= 150000
#define CIVIS_TUPLESORT_NONE TUPLESORT_NONE
#else
#define CIVIS_TUPLESORT_NONE false
#endif

/* 15: pg_prng, MarkGUCPrefixReserved, the sampler's state by reference */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define civis_random_fraction() pg_prng_double(&pg_global_prng_state)
#define civis_mark_guc_prefix_reserved(prefix) MarkGUCPrefixReserved(prefix)
#define civis_sampler_random_fract(rstate) sampler_random_fract(&(rstate)->randstate)
#else
#define civis_random_fraction() ((double) random() / ((double) MAX_RANDOM_VALUE + 1.0))
#define civis_mark_guc_prefix_reserved(prefix) EmitWarningsOnPlaceholders(prefix)
#define civis_sampler_random_fract(rstate) sampler_random_fract((rstate)->randstate)
#endif

/* 14: pull_varnos takes the PlannerInfo, HASH_STRINGS, int64_to_numeric */
#if PG_VERSION_NUM >= 140000
#define civis_pull_varnos(root, expr) pull_varnos((root), (expr))
#define CIVIS_HASH_STRINGS HASH_STRINGS
#define civis_int64_to_numeric_datum(i) NumericGetDatum(int64_to_numeric(i))
#define CIVIS_HAVE_ENCODING_VERIFYMBSTR 1
#else
#define civis_pull_varnos(root, expr) pull_varnos(expr)
#define CIVIS_HASH_STRINGS 0
#define civis_int64_to_numeric_datum(i) DirectFunctionCall1(int8_numeric, Int64GetDatum(i))
#endif

/* 13: FETCH FIRST ... WITH TIES */
#if PG_VERSION_NUM >= 130000
#define civis_limit_with_ties(parse) ((parse)->limitOption == LIMIT_OPTION_WITH_TIES)
#else
#define civis_limit_with_ties(parse) false
#endif

/*
 * Wait events: 17 lets an extension name its own (shown in
 * pg_stat_activity.wait_event); before that everything is "Extension".
 * The names are registered on first use, once per backend.
 */
#if PG_VERSION_NUM >= 170000
static inline uint32
civis_wait_event(const char *name, uint32 *cache)
{
	if (*cache == 0)
		*cache = WaitEventExtensionNew(name);
	return *cache;
}
#else
static inline uint32
civis_wait_event(const char *name, uint32 *cache)
{
	return PG_WAIT_EXTENSION;
}
#endif

/*
 * A set-returning function that hands back a tuplestore
 * (civis_fdw_rate_limit): 16 renamed 15's SetSingleFuncCall to
 * InitMaterializedSRF; before 15 the function sets it up itself.  Include
 * funcapi.h first.
 */
#if PG_VERSION_NUM >= 160000
#define civis_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#elif PG_VERSION_NUM >= 150000
#define civis_materialized_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#else
static inline void
civis_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(old);
}
#endif

/*
 * Shared memory of the request budget (budget.c).
 *
 * civis_my_proc_index(): this backend's index among MaxBackends, from 0
 * (17 renamed BackendId, 1-based, to ProcNumber, 0-based).
 *
 * 17 and 18: the DSM registry, GetNamedDSMSegment(name, size,
 * init_callback(ptr), found); the LWLock tranche is made in the init
 * callback with LWLockNewTrancheId() and named in each backend with
 * LWLockRegisterTranche().  19 passes an argument to the init callback
 * and names a tranche when it is made (LWLockNewTrancheId(name)), with no
 * registration per backend.  Include storage/dsm_registry.h and
 * storage/lwlock.h first (budget.c does).
 */
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#define CIVIS_HAVE_DSM_REGISTRY 1
#define civis_my_proc_index() ((int) MyProcNumber)
#else
#include "storage/backendid.h"
#define civis_my_proc_index() ((int) MyBackendId - 1)
#endif

#if PG_VERSION_NUM >= 190000
#define CIVIS_DSM_INIT_ARG , void *arg
#define civis_get_named_dsm_segment(name, size, init, found) \
	GetNamedDSMSegment((name), (size), (init), (found), NULL)
#define civis_lwlock_new_tranche_id(name) LWLockNewTrancheId(name)
#define civis_lwlock_register_tranche(id, name) ((void) 0)
#elif PG_VERSION_NUM >= 170000
#define CIVIS_DSM_INIT_ARG
#define civis_get_named_dsm_segment(name, size, init, found) \
	GetNamedDSMSegment((name), (size), (init), (found))
#define civis_lwlock_new_tranche_id(name) LWLockNewTrancheId()
#define civis_lwlock_register_tranche(id, name) LWLockRegisterTranche((id), (name))
#endif

/*
 * civis_fdw_schema_diff / _apply and import (issue 23): 16 replaced the
 * per-class ACL and owner checks with object_aclcheck/object_ownercheck,
 * and gave parseTypeString a soft-error context in place of missing_ok.
 * Include utils/acl.h and parser/parse_type.h first.
 */
#if PG_VERSION_NUM >= 160000
#define civis_parse_type_string(str, typid, typmod) \
	parseTypeString((str), (typid), (typmod), NULL)
#define civis_has_server_privilege(oid, mode) \
	(object_aclcheck(ForeignServerRelationId, (oid), GetUserId(), (mode)) == ACLCHECK_OK)
#define civis_has_schema_privilege(oid, mode) \
	(object_aclcheck(NamespaceRelationId, (oid), GetUserId(), (mode)) == ACLCHECK_OK)
#define civis_owns_relation(relid) \
	object_ownercheck(RelationRelationId, (relid), GetUserId())
#else
#define civis_parse_type_string(str, typid, typmod) \
	parseTypeString((str), (typid), (typmod), false)
#define civis_has_server_privilege(oid, mode) \
	(pg_foreign_server_aclcheck((oid), GetUserId(), (mode)) == ACLCHECK_OK)
#define civis_has_schema_privilege(oid, mode) \
	(pg_namespace_aclcheck((oid), GetUserId(), (mode)) == ACLCHECK_OK)
#define civis_owns_relation(relid) pg_class_ownercheck((relid), GetUserId())
#endif

#endif							/* CIVIS_COMPAT_H */
