/*-------------------------------------------------------------------------
 *
 * options.c
 *		Parsing of the plugin's options (the -o name=value of
 *		pg_recvlogical, the trailing arguments of
 *		pg_logical_slot_get_changes, the options of START_REPLICATION).
 *
 * One table lists every option; one loop (options_parse) walks what the
 * client gave, rejects unknown and repeated names and hands each value to
 * the helper for its type.  Every error names the option and the values
 * it accepts, so a typo is caught at START_REPLICATION time, not found
 * later as missing data.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include <limits.h>

#include "nodes/makefuncs.h"
#include "utils/builtins.h"

typedef enum OptionType
{
	OPT_BOOL,
	OPT_INT,
	OPT_ENUM,					/* one of choices, stored as its index */
	OPT_FLAGS,					/* list of choices, stored as a bit mask */
	OPT_PATTERNS				/* list of escaped name patterns */
} OptionType;

typedef struct OptionDef
{
	const char *name;
	OptionType	type;
	size_t		offset;			/* into WcOptions */
	const char *const *choices; /* ENUM, FLAGS: NULL-terminated */
	int			nparts;			/* PATTERNS: parts per item (1..3) */
	bool		stars;			/* PATTERNS: '*' is a wildcard */
	int			max;			/* INT: accepted range is 0..max */
} OptionDef;

static const char *const bytea_choices[] = {"base64", "hex", NULL};

/* Order matches the WC_ACT_* bits. */
static const char *const action_choices[] =
{"insert", "update", "delete", "truncate", "message", NULL};

#define OFF(field) offsetof(WcOptions, field)
#define BOOL_OPT(name, field) {name, OPT_BOOL, OFF(field), NULL, 0, false, 0}
#define LIST_OPT(name, field, nparts, stars) \
	{name, OPT_PATTERNS, OFF(field), NULL, nparts, stars, 0}

/* A batch above 64 MB buys nothing: the per-message cost is long amortised. */
#define BATCH_BYTES_MAX (64 * 1024 * 1024)

static const OptionDef option_defs[] =
{
	BOOL_OPT("include-xids", include_xids),
	BOOL_OPT("include-timestamp", include_timestamp),
	BOOL_OPT("include-lsn", include_lsn),
	BOOL_OPT("include-seq", include_seq),
	BOOL_OPT("include-transaction", include_transaction),
	BOOL_OPT("include-empty-xacts", include_empty_xacts),
	BOOL_OPT("include-types", include_types),
	BOOL_OPT("include-type-oids", include_type_oids),
	BOOL_OPT("include-pk", include_pk),
	BOOL_OPT("numeric-data-types-as-string", numeric_as_string),
	BOOL_OPT("only-local", only_local),
	BOOL_OPT("batch-across-transactions", batch_across_xacts),
	BOOL_OPT("stream-changes", stream_changes),
	BOOL_OPT("two-phase", two_phase),
	{"bytea-encoding", OPT_ENUM, OFF(bytea_encoding), bytea_choices, 0, false, 0},
	{"batch-bytes", OPT_INT, OFF(batch_bytes), NULL, 0, false, BATCH_BYTES_MAX},
	{"actions", OPT_FLAGS, OFF(actions), action_choices, 0, false, 0},
	LIST_OPT("filter-tables", filter_tables, 2, true),
	LIST_OPT("add-tables", add_tables, 2, true),
	LIST_OPT("exclude-columns", exclude_columns, 3, true),
	LIST_OPT("filter-msg-prefixes", filter_msg_prefixes, 1, false),
	LIST_OPT("add-msg-prefixes", add_msg_prefixes, 1, false),
	LIST_OPT("filter-origins", filter_origins, 1, false),
};

#define NUM_OPTIONS ((int) lengthof(option_defs))

/* One character of a list item, with whether it was backslash-escaped. */
typedef struct ItemChar
{
	char		c;
	bool		escaped;
} ItemChar;

static void
options_defaults(WcOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->include_xids = true;
	opts->include_timestamp = true;
	opts->include_lsn = true;
	opts->include_seq = true;
	opts->include_transaction = true;
	opts->numeric_as_string = true;
	opts->bytea_encoding = WC_BYTEA_BASE64;
	opts->actions = WC_ACT_ALL;
}

/* "a, b, c" out of a NULL-terminated array, for hints. */
static char *
options_join(const char *const *names)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; names[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", names[i]);
	return buf.data;
}

static void
options_bad_value(const OptionDef *def, const char *value, const char *accepted)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for walcast option \"%s\"",
					value, def->name),
			 errhint("Accepted values: %s.", accepted)));
}

static void
options_bool(const OptionDef *def, const char *value, bool *target)
{
	/* A bare name (pg_recvlogical -o name) means true, as in test_decoding. */
	if (value == NULL)
		*target = true;
	else if (!parse_bool(value, target))
		options_bad_value(def, value, "true, false, on, off, yes, no, 1, 0");
}

static void
options_int(const OptionDef *def, const char *value, int *target)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < 0 || v > def->max)
		options_bad_value(def, value,
						  psprintf("an integer from 0 to %d", def->max));
	*target = (int) v;
}

static int
options_choice(const OptionDef *def, const char *value, const char *item,
			   const char *accepted)
{
	for (int i = 0; def->choices[i] != NULL; i++)
		if (strcmp(item, def->choices[i]) == 0)
			return i;
	options_bad_value(def, value, accepted);
	return -1;					/* not reached */
}

static void
options_enum(const OptionDef *def, const char *value, int *target)
{
	*target = options_choice(def, value, value, options_join(def->choices));
}

/*
 * Split a list value into items: items are separated by unescaped commas,
 * a backslash makes the next character literal, and unescaped white space
 * at either end of an item is dropped.  Returns a List of ItemChar arrays
 * terminated by a '\0' that is not escaped.
 */
static List *
options_split(const OptionDef *def, const char *value, const char *accepted)
{
	List	   *items = NIL;
	int			vlen = strlen(value);
	const char *p = value;

	if (vlen == 0)
		return NIL;
	for (;;)
	{
		ItemChar   *item = palloc((vlen + 1) * sizeof(ItemChar));
		int			n = 0;
		int			keep = 0;	/* length up to the last non-blank char */

		while (*p == ' ' || *p == '\t')
			p++;
		while (*p != '\0' && *p != ',')
		{
			bool		escaped = (*p == '\\');

			if (escaped && *++p == '\0')
				options_bad_value(def, value, accepted);
			item[n].c = *p++;
			item[n].escaped = escaped;
			n++;
			if (escaped || (item[n - 1].c != ' ' && item[n - 1].c != '\t'))
				keep = n;
		}
		if (keep == 0)
			options_bad_value(def, value, accepted);
		item[keep].c = '\0';
		item[keep].escaped = false;
		items = lappend(items, item);
		if (*p == '\0')
			break;
		p++;					/* the comma */
	}
	return items;
}

static void
options_flags(const OptionDef *def, const char *value, int *target)
{
	const char *accepted = psprintf("a comma-separated list of %s",
									options_join(def->choices));
	ListCell   *lc;

	*target = 0;
	foreach(lc, options_split(def, value, accepted))
	{
		ItemChar   *item = lfirst(lc);
		StringInfoData name;

		initStringInfo(&name);
		for (; item->c != '\0' || item->escaped; item++)
			appendStringInfoChar(&name, item->c);
		*target |= 1 << options_choice(def, value, name.data, accepted);
	}
	if (*target == 0)
		options_bad_value(def, value, accepted);
}

static void
options_patterns(const OptionDef *def, const char *value, List **target)
{
	static const char *const shapes[] = {NULL, "names", "schema.table",
	"schema.table.column"};
	const char *accepted;
	ListCell   *lc;

	if (def->stars)
		accepted = psprintf("a comma-separated list of %s patterns where * "
							"matches any characters; a backslash makes the "
							"next character literal (\\, \\. \\* \\\\)",
							shapes[def->nparts]);
	else
		accepted = psprintf("a comma-separated list of %s; a backslash makes "
							"the next character literal (\\, \\\\)",
							shapes[def->nparts]);
	*target = NIL;
	foreach(lc, options_split(def, value, accepted))
	{
		ItemChar   *item = lfirst(lc);
		WcPattern  *pat = palloc0(sizeof(WcPattern));
		int			len = 0;

		while (item[len].c != '\0' || item[len].escaped)
			len++;
		pat->nparts = 1;
		pat->part[0].chars = palloc(len + 1);
		pat->part[0].star = palloc0(len + 1);
		for (int i = 0; i < len; i++)
		{
			WcName	   *part = &pat->part[pat->nparts - 1];

			if (item[i].c == '.' && !item[i].escaped && def->nparts > 1)
			{
				if (pat->nparts == def->nparts)
					options_bad_value(def, value, accepted);
				part = &pat->part[pat->nparts++];
				part->chars = palloc(len + 1);
				part->star = palloc0(len + 1);
				continue;
			}
			part->star[part->len] = (item[i].c == '*' && !item[i].escaped &&
									 def->stars);
			part->chars[part->len++] = item[i].c;
		}
		if (pat->nparts != def->nparts)
			options_bad_value(def, value, accepted);
		for (int i = 0; i < pat->nparts; i++)
		{
			if (pat->part[i].len == 0)
				options_bad_value(def, value, accepted);
			pat->part[i].chars[pat->part[i].len] = '\0';
		}
		*target = lappend(*target, pat);
	}
}

static const OptionDef *
options_lookup(const char *name)
{
	for (int i = 0; i < NUM_OPTIONS; i++)
		if (strcmp(option_defs[i].name, name) == 0)
			return &option_defs[i];
	return NULL;
}

static void
options_unknown(const char *name)
{
	const char *names[NUM_OPTIONS + 1];

	for (int i = 0; i < NUM_OPTIONS; i++)
		names[i] = option_defs[i].name;
	names[NUM_OPTIONS] = NULL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized walcast option \"%s\"", name),
			 errhint("Accepted options: %s.", options_join(names))));
}

/*
 * Fill *opts from the DefElem list the server hands to the startup
 * callback.  Allocates in the current memory context, which must live as
 * long as the decoding context.
 */
void
options_parse(WcOptions *opts, List *defs)
{
	bool		seen[NUM_OPTIONS] = {0};
	ListCell   *lc;

	options_defaults(opts);
	foreach(lc, defs)
	{
		DefElem    *elem = lfirst(lc);
		const OptionDef *def = options_lookup(elem->defname);
		const char *value;
		void	   *target;

		Assert(elem->arg == NULL || IsA(elem->arg, String));
		if (def == NULL)
			options_unknown(elem->defname);
		if (seen[def - option_defs])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("walcast option \"%s\" specified more than once",
							def->name)));
		seen[def - option_defs] = true;

		value = elem->arg != NULL ? strVal(elem->arg) : NULL;
		if (value == NULL && def->type != OPT_BOOL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("walcast option \"%s\" requires a value",
							def->name)));
		target = (char *) opts + def->offset;
		switch (def->type)
		{
			case OPT_BOOL:
				options_bool(def, value, target);
				break;
			case OPT_INT:
				options_int(def, value, target);
				break;
			case OPT_ENUM:
				options_enum(def, value, target);
				break;
			case OPT_FLAGS:
				options_flags(def, value, target);
				break;
			case OPT_PATTERNS:
				options_patterns(def, value, target);
				break;
		}
	}
}
