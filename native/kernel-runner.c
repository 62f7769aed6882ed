/*
 * nicoff-kernel-runner: load one already-linked eBPF program into the running
 * kernel with raw bpf(2) calls and run it on test packets.
 *
 * nicoff's own loader has parsed and relocated the object; this helper only
 * does what Node cannot: the syscalls. It reads a batch of line-based
 * requests on stdin and writes line-based answers on stdout. Every byte
 * string travels as lowercase hex, '-' meaning "empty / absent", so both
 * sides parse with a split on spaces.
 *
 * Request (in this order: maps, one prog, then any mix of reset/update/run/dump):
 *   nicoff-kernel-runner 1
 *   map <type> <key_size> <value_size> <max_entries> <flags> <readonly 0|1> <name-hex>
 *       <initial-value-hex> <inner_type> <inner_key_size> <inner_value_size>
 *       <inner_max_entries> <inner_flags>          (inner_type 0: no inner map)
 *   prog <type> <expected_attach_type> <prog_flags> <log_level> <kern_version>
 *        <name-hex> <license-hex> <insns-hex>
 *   reset <map-index>                 empty a hash-like map / zero an array and
 *                                     write back the initial value of global data
 *   update <map-index> <key-hex> <value-hex>
 *   run <repeat> <flags> <data-hex> <ctx-in-hex> <ctx-out-size> <data-out-size>
 *   dump                              dump every map
 *   end
 *
 * Answers:
 *   map <index> ok | map <index> fail <errno>       (after a failure: done, exit 0)
 *   load ok <log_level_used> <log-hex>
 *   load fail <errno> <log_level_used> <log-hex>    (then: done, exit 0)
 *   run ok <retval> <duration_ns> <data-out-hex> <ctx-out-hex>
 *   run fail <errno>
 *   dump <map-index> begin <value-stride> <values-per-entry>
 *   entry <key-hex> <value-hex>        (per-CPU maps: one stride-sized slot per possible CPU)
 *   dump <map-index> end <count> | dump <map-index> fail <errno>
 *   done
 * A malformed request gives `error <line> <message>` and exit status 2.
 *
 *   nicoff-kernel-runner --probe   ->  probe ok <possible_cpus> | probe fail <errno> <step>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_MAPS 4096
#define MAX_TOKENS 16
#define LOG_MIN_SIZE (1u << 20)
#define LOG_MAX_SIZE (UINT32_MAX >> 2) /* the kernel's own cap on log_size */
#define DATA_OUT_SLACK 65536           /* XDP adjust_head/tail and skb helpers can grow the packet */

/*
 * BPF_PROG_LOAD attributes as kernels since 6.4 know them. Debian 12's uapi
 * header predates log_true_size, so the layout is spelled out here; the
 * static asserts pin the shared prefix to the header.
 */
struct prog_load_attr {
	uint32_t prog_type;
	uint32_t insn_cnt;
	uint64_t insns;
	uint64_t license;
	uint32_t log_level;
	uint32_t log_size;
	uint64_t log_buf;
	uint32_t kern_version;
	uint32_t prog_flags;
	char prog_name[BPF_OBJ_NAME_LEN];
	uint32_t prog_ifindex;
	uint32_t expected_attach_type;
	uint32_t prog_btf_fd;
	uint32_t func_info_rec_size;
	uint64_t func_info;
	uint32_t func_info_cnt;
	uint32_t line_info_rec_size;
	uint64_t line_info;
	uint32_t line_info_cnt;
	uint32_t attach_btf_id;
	uint32_t attach_prog_fd;
	uint32_t core_relo_cnt;
	uint64_t fd_array;
	uint64_t core_relos;
	uint32_t core_relo_rec_size;
	uint32_t log_true_size;
};
_Static_assert(offsetof(struct prog_load_attr, expected_attach_type) ==
		       offsetof(union bpf_attr, expected_attach_type), "prog load layout");
_Static_assert(offsetof(struct prog_load_attr, core_relo_rec_size) ==
		       offsetof(union bpf_attr, core_relo_rec_size), "prog load layout");

struct map_slot {
	int fd;
	uint32_t type, key_size, value_size, max_entries;
	int readonly;
	uint8_t *initial; /* global data: the section's bytes, written at key 0 */
	size_t initial_len;
};

static struct map_slot maps[MAX_MAPS];
static int map_count;
static int prog_fd = -1;
static int possible_cpus = 1;
static unsigned long line_no;

static long sys_bpf(int cmd, void *attr, unsigned int size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static void cleanup(void)
{
	for (int i = 0; i < map_count; i++) {
		if (maps[i].fd >= 0)
			close(maps[i].fd);
		free(maps[i].initial);
	}
	map_count = 0;
	if (prog_fd >= 0)
		close(prog_fd);
	prog_fd = -1;
}

static void __attribute__((noreturn, format(printf, 1, 2))) request_error(const char *fmt, ...)
{
	va_list ap;
	printf("error %lu ", line_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	cleanup();
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		request_error("out of memory (%zu bytes)", n);
	return p;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a hex token ('-' = empty); the result is malloc'ed (never NULL). */
static uint8_t *parse_hex(const char *tok, size_t *len, const char *what)
{
	if (strcmp(tok, "-") == 0) {
		*len = 0;
		return xmalloc(1);
	}
	size_t n = strlen(tok);
	if (n % 2)
		request_error("%s: odd number of hex digits", what);
	uint8_t *out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_nibble(tok[2 * i]), lo = hex_nibble(tok[2 * i + 1]);
		if (hi < 0 || lo < 0)
			request_error("%s: bad hex digit", what);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	out[n / 2] = 0;
	*len = n / 2;
	return out;
}

static uint64_t parse_uint(const char *tok, uint64_t max, const char *what)
{
	char *end;
	if (!tok[0] || tok[0] == '-')
		request_error("%s: expected an unsigned number, got '%s'", what, tok);
	errno = 0;
	unsigned long long v = strtoull(tok, &end, 0);
	if (errno || *end || v > max)
		request_error("%s: bad number '%s'", what, tok);
	return v;
}

static void print_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	if (n == 0) {
		fputc('-', stdout);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		fputc(digits[p[i] >> 4], stdout);
		fputc(digits[p[i] & 15], stdout);
	}
}

static void copy_name(char *dst, const uint8_t *src, size_t len)
{
	/* The kernel accepts [A-Za-z0-9_.] and at most 15 characters. */
	size_t j = 0;
	for (size_t i = 0; i < len && j < BPF_OBJ_NAME_LEN - 1; i++) {
		char c = (char)src[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '.')
			dst[j++] = c;
	}
	dst[j] = 0;
}

static int count_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[4096];
	int count = 0;
	if (!f)
		return 1;
	if (!fgets(buf, sizeof buf, f)) {
		fclose(f);
		return 1;
	}
	fclose(f);
	/* e.g. "0-3,5,7-8": count every listed CPU, as libbpf does */
	char *p = buf;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			break;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			p = end;
		}
		count += (int)(b - a + 1);
		if (*p == ',')
			p++;
	}
	return count > 0 ? count : 1;
}

static int is_per_cpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static uint32_t value_stride(const struct map_slot *m)
{
	return is_per_cpu(m->type) ? (m->value_size + 7) / 8 * 8 : m->value_size;
}

/* Bytes the syscall reads or writes for one value. */
static size_t value_buffer_size(const struct map_slot *m)
{
	return is_per_cpu(m->type) ? (size_t)value_stride(m) * possible_cpus : m->value_size;
}

static int map_update(int fd, const void *key, const void *value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof a) ? -errno : 0;
}

static int map_lookup(int fd, const void *key, void *value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof a) ? -errno : 0;
}

static int map_next_key(int fd, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.next_key = (uint64_t)(uintptr_t)next;
	return sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof a) ? -errno : 0;
}

static int map_delete(int fd, const void *key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a, sizeof a) ? -errno : 0;
}

static int create_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		      uint32_t flags, const char *name, int inner_fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = flags;
	if (inner_fd >= 0)
		a.inner_map_fd = (uint32_t)inner_fd;
	if (name)
		strncpy(a.map_name, name, BPF_OBJ_NAME_LEN - 1);
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof a);
	if (fd < 0 && errno == EINVAL && name && name[0]) {
		/* Old kernels refuse names; retry without one, as libbpf does. */
		memset(a.map_name, 0, sizeof a.map_name);
		fd = (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof a);
	}
	return fd < 0 ? -errno : fd;
}

/* Write a global-data map's section bytes at key 0 (per-CPU: into every CPU's slot). */
static int write_initial_value(struct map_slot *m)
{
	if (!m->initial_len)
		return 0;
	uint8_t *val = xmalloc(value_buffer_size(m));
	uint32_t key = 0;
	int copies = is_per_cpu(m->type) ? possible_cpus : 1;
	for (int c = 0; c < copies; c++)
		memcpy(val + (size_t)c * value_stride(m), m->initial, m->initial_len);
	int r = map_update(m->fd, &key, val);
	free(val);
	return r;
}

static void handle_map(char **tok, int ntok)
{
	if (ntok != 14)
		request_error("map: expected 13 fields, got %d", ntok - 1);
	if (prog_fd >= 0)
		request_error("map: maps must come before prog");
	if (map_count >= MAX_MAPS)
		request_error("map: more than %d maps", MAX_MAPS);
	struct map_slot *m = &maps[map_count];
	memset(m, 0, sizeof *m);
	m->fd = -1;
	m->type = (uint32_t)parse_uint(tok[1], UINT32_MAX, "map type");
	m->key_size = (uint32_t)parse_uint(tok[2], UINT32_MAX, "map key size");
	m->value_size = (uint32_t)parse_uint(tok[3], UINT32_MAX, "map value size");
	m->max_entries = (uint32_t)parse_uint(tok[4], UINT32_MAX, "map max entries");
	uint32_t flags = (uint32_t)parse_uint(tok[5], UINT32_MAX, "map flags");
	m->readonly = (int)parse_uint(tok[6], 1, "map readonly");
	size_t name_len;
	uint8_t *name_raw = parse_hex(tok[7], &name_len, "map name");
	char name[BPF_OBJ_NAME_LEN];
	copy_name(name, name_raw, name_len);
	free(name_raw);
	m->initial = parse_hex(tok[8], &m->initial_len, "map initial value");
	uint32_t inner_type = (uint32_t)parse_uint(tok[9], UINT32_MAX, "inner map type");
	uint32_t inner_ks = (uint32_t)parse_uint(tok[10], UINT32_MAX, "inner key size");
	uint32_t inner_vs = (uint32_t)parse_uint(tok[11], UINT32_MAX, "inner value size");
	uint32_t inner_max = (uint32_t)parse_uint(tok[12], UINT32_MAX, "inner max entries");
	uint32_t inner_flags = (uint32_t)parse_uint(tok[13], UINT32_MAX, "inner flags");
	map_count++; /* from here on cleanup() owns m */
	if (m->initial_len > m->value_size)
		request_error("map %d: initial value is %zu bytes, value size %u", map_count - 1,
			      m->initial_len, m->value_size);
	if (m->readonly)
		flags |= BPF_F_RDONLY_PROG; /* .rodata: the program may only read it (libbpf does the same) */

	int inner_fd = -1;
	if (inner_type) {
		inner_fd = create_map(inner_type, inner_ks, inner_vs, inner_max, inner_flags, "inner", -1);
		if (inner_fd < 0) {
			printf("map %d fail %d\n", map_count - 1, -inner_fd);
			return;
		}
	}
	int fd = create_map(m->type, m->key_size, m->value_size, m->max_entries, flags, name, inner_fd);
	if (inner_fd >= 0)
		close(inner_fd);
	if (fd < 0) {
		printf("map %d fail %d\n", map_count - 1, -fd);
		return;
	}
	m->fd = fd;
	int r = write_initial_value(m);
	if (r == 0 && m->readonly) {
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_fd = (uint32_t)fd;
		if (sys_bpf(BPF_MAP_FREEZE, &a, sizeof a))
			r = -errno;
	}
	if (r < 0) {
		printf("map %d fail %d\n", map_count - 1, -r);
		return;
	}
	printf("map %d ok\n", map_count - 1);
}

/* ld_imm64 with src 1 (BPF_PSEUDO_MAP_FD) or 2 (BPF_PSEUDO_MAP_VALUE): imm = map index -> fd. */
static void patch_map_references(struct bpf_insn *insns, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (insns[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (i + 1 >= count)
			request_error("prog: ld_imm64 at instruction %zu has no second slot", i);
		if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
			int32_t index = insns[i].imm;
			if (index < 0 || index >= map_count)
				request_error("prog: instruction %zu refers to map %d; %d maps were given", i,
					      index, map_count);
			insns[i].imm = maps[index].fd;
		}
		i++;
	}
}

static int load_program(const struct prog_load_attr *base, uint32_t log_level, char **log_out)
{
	uint32_t log_size = log_level ? (log_level & 2 ? 16 * LOG_MIN_SIZE : LOG_MIN_SIZE) : 0;
	for (;;) {
		struct prog_load_attr a = *base;
		char *log = log_size ? xmalloc(log_size) : NULL;
		a.log_level = log_level;
		a.log_size = log_size;
		a.log_buf = (uint64_t)(uintptr_t)log;
		int fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof a);
		int err = fd < 0 ? errno : 0;
		if (fd < 0 && err == ENOSPC && log_size && log_size < LOG_MAX_SIZE) {
			/* Truncated log: retry with what the kernel says it needs (6.4+) or double. */
			uint64_t want = a.log_true_size > log_size ? (uint64_t)a.log_true_size + 1 : (uint64_t)log_size * 2;
			log_size = want > LOG_MAX_SIZE ? LOG_MAX_SIZE : (uint32_t)want;
			free(log);
			continue;
		}
		*log_out = log;
		return fd < 0 ? -err : fd;
	}
}

static void handle_prog(char **tok, int ntok)
{
	if (ntok != 9)
		request_error("prog: expected 8 fields, got %d", ntok - 1);
	if (prog_fd >= 0)
		request_error("prog: only one program per batch");
	struct prog_load_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = (uint32_t)parse_uint(tok[1], UINT32_MAX, "prog type");
	a.expected_attach_type = (uint32_t)parse_uint(tok[2], UINT32_MAX, "expected attach type");
	a.prog_flags = (uint32_t)parse_uint(tok[3], UINT32_MAX, "prog flags");
	uint32_t log_level = (uint32_t)parse_uint(tok[4], 7, "log level");
	a.kern_version = (uint32_t)parse_uint(tok[5], UINT32_MAX, "kern version");
	size_t name_len, license_len, insns_len;
	uint8_t *name_raw = parse_hex(tok[6], &name_len, "prog name");
	copy_name(a.prog_name, name_raw, name_len);
	free(name_raw);
	uint8_t *license = parse_hex(tok[7], &license_len, "license"); /* NUL-terminated by parse_hex */
	uint8_t *insns = parse_hex(tok[8], &insns_len, "insns");
	if (insns_len == 0 || insns_len % 8) {
		free(license);
		free(insns);
		request_error("prog: instructions are %zu bytes, not a non-zero multiple of 8", insns_len);
	}
	for (int i = 0; i < map_count; i++)
		if (maps[i].fd < 0)
			request_error("prog: map %d was not created", i);
	patch_map_references((struct bpf_insn *)insns, insns_len / 8);
	a.insn_cnt = (uint32_t)(insns_len / 8);
	a.insns = (uint64_t)(uintptr_t)insns;
	a.license = (uint64_t)(uintptr_t)license;

	char *log = NULL;
	int fd = load_program(&a, log_level, &log);
	if (fd < 0 && log_level == 0) {
		/* No log was asked for, but a refusal should come with its reason: ask again at level 1, like libbpf. */
		free(log);
		log_level = 1;
		fd = load_program(&a, log_level, &log);
	}
	if (fd >= 0) {
		prog_fd = fd;
		printf("load ok %u ", log_level);
	} else {
		printf("load fail %d %u ", -fd, log_level);
	}
	print_hex((const uint8_t *)log, log ? strlen(log) : 0); /* calloc'ed, so NUL-terminated */
	printf("\n");
	free(log);
	free(license);
	free(insns);
}

static struct map_slot *map_arg(const char *tok, const char *what)
{
	uint64_t index = parse_uint(tok, UINT32_MAX, what);
	if (index >= (uint64_t)map_count)
		request_error("%s: no map %llu (%d maps)", what, (unsigned long long)index, map_count);
	return &maps[index];
}

static void handle_reset(char **tok, int ntok)
{
	if (ntok != 2)
		request_error("reset: expected 1 field");
	struct map_slot *m = map_arg(tok[1], "reset");
	if (m->readonly)
		return; /* frozen: nothing the program can have changed */
	int r = 0;
	if (m->type == BPF_MAP_TYPE_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		uint8_t *zero = xmalloc(value_buffer_size(m));
		for (uint32_t k = 0; k < m->max_entries && r == 0; k++)
			r = map_update(m->fd, &k, zero);
		free(zero);
		if (r == 0)
			r = write_initial_value(m);
	} else {
		/* Delete the first key until there is none. */
		uint8_t *key = xmalloc(m->key_size);
		while ((r = map_next_key(m->fd, NULL, key)) == 0)
			if ((r = map_delete(m->fd, key)) != 0)
				break;
		if (r == -ENOENT)
			r = 0;
		free(key);
	}
	if (r)
		request_error("reset: map %ld: %s", (long)(m - maps), strerror(-r));
}

static void handle_update(char **tok, int ntok)
{
	if (ntok != 4)
		request_error("update: expected 3 fields");
	struct map_slot *m = map_arg(tok[1], "update");
	size_t key_len, value_len;
	uint8_t *key = parse_hex(tok[2], &key_len, "update key");
	uint8_t *value = parse_hex(tok[3], &value_len, "update value");
	uint8_t *buf = value;
	if (key_len != m->key_size) {
		free(key);
		free(value);
		request_error("update: key is %zu bytes, map %ld has key size %u", key_len, (long)(m - maps),
			      m->key_size);
	}
	if (is_per_cpu(m->type) && value_len == m->value_size) {
		/* One value given for a per-CPU map: every CPU gets it. */
		buf = xmalloc(value_buffer_size(m));
		for (int c = 0; c < possible_cpus; c++)
			memcpy(buf + (size_t)c * value_stride(m), value, value_len);
	} else if (value_len != value_buffer_size(m)) {
		free(key);
		free(value);
		request_error("update: value is %zu bytes, map %ld needs %zu", value_len, (long)(m - maps),
			      value_buffer_size(m));
	}
	int r = map_update(m->fd, key, buf);
	if (buf != value)
		free(buf);
	free(key);
	free(value);
	if (r)
		request_error("update: map %ld: %s", (long)(m - maps), strerror(-r));
}

static void handle_run(char **tok, int ntok)
{
	if (ntok != 7)
		request_error("run: expected 6 fields, got %d", ntok - 1);
	if (prog_fd < 0)
		request_error("run: no program was loaded");
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.test.prog_fd = (uint32_t)prog_fd;
	a.test.repeat = (uint32_t)parse_uint(tok[1], UINT32_MAX, "run repeat");
	a.test.flags = (uint32_t)parse_uint(tok[2], UINT32_MAX, "run flags");
	size_t data_len, ctx_len;
	uint8_t *data = parse_hex(tok[3], &data_len, "run data");
	uint8_t *ctx_in = parse_hex(tok[4], &ctx_len, "run ctx");
	uint32_t ctx_out_size = (uint32_t)parse_uint(tok[5], 1 << 20, "run ctx out size");
	uint64_t data_out_size = parse_uint(tok[6], UINT32_MAX, "run data out size");
	if (data_out_size == 0)
		data_out_size = data_len + DATA_OUT_SLACK;
	uint8_t *data_out = xmalloc(data_out_size);
	uint8_t *ctx_out = ctx_out_size ? xmalloc(ctx_out_size) : NULL;
	if (data_len) {
		a.test.data_in = (uint64_t)(uintptr_t)data;
		a.test.data_size_in = (uint32_t)data_len;
	}
	a.test.data_out = (uint64_t)(uintptr_t)data_out;
	a.test.data_size_out = (uint32_t)data_out_size;
	if (ctx_len) {
		a.test.ctx_in = (uint64_t)(uintptr_t)ctx_in;
		a.test.ctx_size_in = (uint32_t)ctx_len;
	}
	if (ctx_out) {
		a.test.ctx_out = (uint64_t)(uintptr_t)ctx_out;
		a.test.ctx_size_out = ctx_out_size;
	}
	if (sys_bpf(BPF_PROG_TEST_RUN, &a, sizeof a)) {
		printf("run fail %d\n", errno);
	} else {
		printf("run ok %u %u ", a.test.retval, a.test.duration);
		print_hex(data_out, a.test.data_size_out < data_out_size ? a.test.data_size_out : data_out_size);
		printf(" ");
		print_hex(ctx_out, ctx_out && a.test.ctx_size_out < ctx_out_size ? a.test.ctx_size_out : ctx_out_size);
		printf("\n");
	}
	free(data);
	free(ctx_in);
	free(data_out);
	free(ctx_out);
}

static void dump_map(int index)
{
	struct map_slot *m = &maps[index];
	uint8_t *key = xmalloc(m->key_size), *next = xmalloc(m->key_size);
	uint8_t *value = xmalloc(value_buffer_size(m));
	unsigned long count = 0;
	int have_key = 0, r;
	printf("dump %d begin %u %d\n", index, value_stride(m), is_per_cpu(m->type) ? possible_cpus : 1);
	while ((r = map_next_key(m->fd, have_key ? key : NULL, next)) == 0) {
		memcpy(key, next, m->key_size);
		have_key = 1;
		r = map_lookup(m->fd, key, value);
		if (r == -ENOENT)
			continue; /* deleted meanwhile, or an empty fd-array slot */
		if (r)
			break;
		printf("entry ");
		print_hex(key, m->key_size);
		printf(" ");
		print_hex(value, value_buffer_size(m));
		printf("\n");
		count++;
	}
	if (r == -ENOENT)
		printf("dump %d end %lu\n", index, count);
	else
		printf("dump %d fail %d\n", index, -r);
	free(key);
	free(next);
	free(value);
}

static int probe(void)
{
	/* An array map and `r0 = 0; exit` as a socket filter: the least any user of the runner needs. */
	int fd = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, "nicoff_probe", -1);
	if (fd < 0) {
		printf("probe fail %d map_create\n", -fd);
		return 1;
	}
	close(fd);
	struct bpf_insn insns[2] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct prog_load_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = 2;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.license = (uint64_t)(uintptr_t) "GPL";
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof a);
	if (fd < 0) {
		printf("probe fail %d prog_load\n", errno);
		return 1;
	}
	close(fd);
	printf("probe ok %d\n", possible_cpus);
	return 0;
}

static int split(char *line, char **tok)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS)
			request_error("too many fields");
		tok[n++] = t;
	}
	return n;
}

int main(int argc, char **argv)
{
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. */
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	possible_cpus = count_possible_cpus();

	if (argc == 2 && strcmp(argv[1], "--probe") == 0)
		return probe();
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--probe] < request\n", argv[0]);
		return 2;
	}

	char *line = NULL;
	size_t cap = 0;
	int seen_header = 0, seen_end = 0, stopped = 0;
	while (!seen_end && getline(&line, &cap, stdin) >= 0) {
		char *tok[MAX_TOKENS];
		line_no++;
		int n = split(line, tok);
		if (n == 0)
			continue;
		if (!seen_header) {
			if (n != 2 || strcmp(tok[0], "nicoff-kernel-runner") != 0 || strcmp(tok[1], "1") != 0)
				request_error("expected header 'nicoff-kernel-runner 1'");
			seen_header = 1;
			continue;
		}
		if (strcmp(tok[0], "end") == 0) {
			seen_end = 1;
			continue;
		}
		if (stopped)
			continue; /* a map or the program was refused: read the rest, run nothing */
		if (strcmp(tok[0], "map") == 0) {
			handle_map(tok, n);
			if (maps[map_count - 1].fd < 0)
				stopped = 1;
		} else if (strcmp(tok[0], "prog") == 0) {
			handle_prog(tok, n);
			if (prog_fd < 0)
				stopped = 1;
		} else if (strcmp(tok[0], "reset") == 0) {
			handle_reset(tok, n);
		} else if (strcmp(tok[0], "update") == 0) {
			handle_update(tok, n);
		} else if (strcmp(tok[0], "run") == 0) {
			handle_run(tok, n);
		} else if (strcmp(tok[0], "dump") == 0) {
			if (n != 1)
				request_error("dump: takes no fields");
			for (int i = 0; i < map_count; i++)
				dump_map(i);
		} else {
			request_error("unknown request '%s'", tok[0]);
		}
	}
	free(line);
	if (!seen_header)
		request_error("empty request");
	if (!seen_end)
		request_error("request ended without 'end'");
	printf("done\n");
	fflush(stdout);
	cleanup();
	return 0;
}
