/* The exporter's BER reader in C: what exporters/snmp/ber.py decodes with.
 *
 * Why C: decoding a GETBULK answer was about half of a scrape's instructions in the
 * pure-Python reader (~7.4k a varbind) and no Python rewrite moved it further; here a
 * varbind costs its three objects (OID bytes, value bytes, the tuple) and a few checks.
 *
 * It reads exactly what the Python reader it replaces read and refuses what it refused,
 * with the same BerError messages: that reader is kept as the tests' reference
 * (tests/exporter/ber_reference.py), and tests/exporter/test_ber_fuzz.py holds this one
 * to it and to pysnmp on every draw, damaged datagrams included. Where the Python reader
 * read past the data it raised IndexError and reported "truncated varbind"; so does
 * this one (every read is checked against the buffer's length, slices are clamped to it
 * like Python's).
 *
 * A varbind is a tuple (oid, tag, raw): the OID's encoded sub-identifiers, the value's tag
 * and its content octets as received. The SMI is the gate (RFC 2578): an IpAddress of 4
 * octets, Counter32/Gauge32/TimeTicks in 0..2**32-1, Counter64 in 0..2**64-1, Integer32
 * in -2**31..2**31-1, NULL and the exceptions empty, OIDs without a cut-short or
 * 0x80-led sub-identifier.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static PyObject *BerError;

enum {
    INTEGER = 0x02, OCTET_STRING = 0x04, NULL_TAG = 0x05, OBJECT_ID = 0x06, SEQUENCE = 0x30,
    IP_ADDRESS = 0x40, COUNTER32 = 0x41, GAUGE32 = 0x42, TIMETICKS = 0x43, OPAQUE = 0x44,
    COUNTER64 = 0x46, NO_SUCH_OBJECT = 0x80, NO_SUCH_INSTANCE = 0x81, END_OF_MIB_VIEW = 0x82,
    GET_REQUEST = 0xA0, GET_NEXT_REQUEST = 0xA1, RESPONSE = 0xA2, GET_BULK_REQUEST = 0xA5, REPORT = 0xA8,
};

/* what a value's tag asks of its content (the Python reader's _SMI_RULE): unsigned types
 * the octets of their largest value's minimal encoding (5 or 9), Integer32 at most 4 on
 * the fast path, IpAddress 4, NULL and the exceptions none; 0 = anything */
enum { RULE_ANY = 0, RULE_EMPTY = 1, RULE_IP = 2, RULE_INT32 = 4 };

static int smi_rule(int tag)
{
    switch (tag) {
    case COUNTER32: case GAUGE32: case TIMETICKS: return 5;
    case COUNTER64: return 9;
    case INTEGER: return RULE_INT32;
    case IP_ADDRESS: return RULE_IP;
    case NULL_TAG: case NO_SUCH_OBJECT: case NO_SUCH_INSTANCE: case END_OF_MIB_VIEW: return RULE_EMPTY;
    default: return RULE_ANY;
    }
}

static int is_scalar_tag(int tag)
{
    switch (tag) {
    case INTEGER: case OCTET_STRING: case NULL_TAG: case OBJECT_ID: case IP_ADDRESS: case COUNTER32:
    case GAUGE32: case TIMETICKS: case OPAQUE: case COUNTER64:
    case NO_SUCH_OBJECT: case NO_SUCH_INSTANCE: case END_OF_MIB_VIEW:
        return 1;
    default:
        return 0;
    }
}

static int is_pdu_tag(int tag)
{
    return tag == RESPONSE || tag == REPORT || tag == GET_REQUEST || tag == GET_NEXT_REQUEST
           || tag == GET_BULK_REQUEST;
}

static PyObject *ber_error(const char *message)
{
    PyErr_SetString(BerError, message);
    return NULL;
}

/* Python's data[a:b] for 0 <= a <= b: the part of [a, b) inside the data */
static Py_ssize_t clamp(Py_ssize_t at, Py_ssize_t len)
{
    return at < len ? at : len;
}

/* int.from_bytes(data[pos:pos+count], "big"), the slice clamped, count <= 4 */
static Py_ssize_t read_length(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos, int count)
{
    Py_ssize_t value = 0;
    for (Py_ssize_t i = pos, stop = clamp(pos + count, len); i < stop; i++)
        value = (value << 8) | buf[i];
    return value;
}

/* (tag, content start, content end) of the TLV at pos, checked against end. end lies past
 * the data only for a varbind's OID, whose two header octets the caller has read already:
 * past them only read_length reads, clamped to the data. 0, or -1 with BerError set. */
static int header(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos, Py_ssize_t end,
                  int *tag, Py_ssize_t *start, Py_ssize_t *stop)
{
    if (pos + 2 > end) {
        ber_error("truncated TLV header");
        return -1;
    }
    *tag = buf[pos];
    Py_ssize_t length = buf[pos + 1];
    pos += 2;
    if (length & 0x80) {
        int count = length & 0x7F;
        if (count == 0 || count > 4 || pos + count > end) {
            ber_error("bad length");
            return -1;
        }
        length = read_length(buf, len, pos, count);
        pos += count;
    }
    if (pos + length > end) {
        ber_error("truncated value");
        return -1;
    }
    *start = pos;
    *stop = pos + length;
    return 0;
}

/* a two's complement big-endian integer of 1..9 octets */
static __int128 signed_value(const unsigned char *raw, Py_ssize_t n)
{
    __int128 value = (raw[0] & 0x80) ? -1 : 0;
    for (Py_ssize_t i = 0; i < n; i++)
        value = value * 256 + raw[i];
    return value;
}

static PyObject *int_from_bytes(const unsigned char *raw, Py_ssize_t n)
{
    if (n <= 8) {
        __int128 value = signed_value(raw, n);
        return PyLong_FromLongLong((long long)value);
    }
    PyObject *octets = PyBytes_FromStringAndSize((const char *)raw, n);
    PyObject *args = octets ? Py_BuildValue("(Os)", octets, "big") : NULL;
    PyObject *kwargs = args ? Py_BuildValue("{s:O}", "signed", Py_True) : NULL;
    PyObject *from_bytes = kwargs ? PyObject_GetAttrString((PyObject *)&PyLong_Type, "from_bytes") : NULL;
    PyObject *value = from_bytes ? PyObject_Call(from_bytes, args, kwargs) : NULL;
    Py_XDECREF(from_bytes);
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(octets);
    return value;
}

/* a value out of range is named in decimal up to this many octets, by its size beyond */
#define MAX_DECIMAL_OCTETS 1024

/* the Python reader's check_smi_range for a value that missed the fast path: BerError
 * when the content is empty or its value lies outside the tag's SMI range */
static int check_smi_range(int tag, const unsigned char *raw, Py_ssize_t n)
{
    if (n == 0) {
        PyErr_Format(BerError, "empty value for tag 0x%02x", tag);
        return -1;
    }
    /* the value's minimal encoding: sign-extension octets dropped */
    Py_ssize_t skip = 0;
    while (n - skip > 1 && ((raw[skip] == 0x00 && raw[skip + 1] < 0x80) || (raw[skip] == 0xFF && raw[skip + 1] >= 0x80)))
        skip++;
    Py_ssize_t significant = n - skip;
    if (significant <= 9) {  /* every SMI bound fits 9 octets: anything longer is out of range */
        __int128 value = signed_value(raw + skip, significant);
        __int128 low = 0, high = 0xFFFFFFFF;
        if (tag == INTEGER) {
            low = -((__int128)1 << 31);
            high = ((__int128)1 << 31) - 1;
        } else if (tag == COUNTER64) {
            high = ((__int128)1 << 64) - 1;
        }
        if (low <= value && value <= high)
            return 0;
    }
    if (significant > MAX_DECIMAL_OCTETS) {  /* Python prints no int past 4300 digits */
        PyErr_Format(BerError, "value of %zd octets out of range for tag 0x%02x", significant, tag);
        return -1;
    }
    PyObject *number = int_from_bytes(raw + skip, significant);
    if (number != NULL) {
        PyErr_Format(BerError, "value %S out of range for tag 0x%02x", number, tag);
        Py_DECREF(number);
    }
    return -1;
}

/* encoded sub-identifiers that pysnmp accepts too: the last octet ends an arc, and no arc
 * starts with 0x80 (X.690 8.19.2); n > 0 */
static int valid_oid(const unsigned char *oid, Py_ssize_t n)
{
    if (oid[n - 1] & 0x80)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (oid[i] == 0x80 && (i == 0 || oid[i - 1] < 0x80))
            return 0;
    return 1;
}

static int is_ascii(const unsigned char *octets, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (octets[i] & 0x80)
            return 0;
    return 1;
}

/* arguments (data: bytes, pos: int, end: int) with 0 <= pos and end <= len(data) */
static int parse_args(PyObject *const *args, Py_ssize_t nargs, const char *name,
                      const unsigned char **buf, Py_ssize_t *len, Py_ssize_t *pos, Py_ssize_t *end)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes data, pos and end", name);
        return -1;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "%s() reads bytes, not %.50s", name, Py_TYPE(args[0])->tp_name);
        return -1;
    }
    *buf = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    *len = PyBytes_GET_SIZE(args[0]);
    *pos = PyLong_AsSsize_t(args[1]);
    if (*pos == -1 && PyErr_Occurred())
        return -1;
    *end = PyLong_AsSsize_t(args[2]);
    if (*end == -1 && PyErr_Occurred())
        return -1;
    if (*pos < 0 || *end > *len) {
        PyErr_Format(PyExc_ValueError, "%s(): pos %zd and end %zd must lie inside the data (%zd octets)",
                     name, *pos, *end, *len);
        return -1;
    }
    return 0;
}

static PyObject *py_read_header(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *buf;
    Py_ssize_t len, pos, end, start, stop;
    int tag;
    if (parse_args(args, nargs, "read_header", &buf, &len, &pos, &end) < 0
        || header(buf, len, pos, end, &tag, &start, &stop) < 0)
        return NULL;
    return Py_BuildValue("(inn)", tag, start, stop);
}

/* an INTEGER of 1..9 octets at pos: its value as __int128 (for checks) and as a Python int */
static int integer(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos, Py_ssize_t end,
                   __int128 *value, PyObject **object, Py_ssize_t *after)
{
    int tag;
    Py_ssize_t start, stop;
    if (header(buf, len, pos, end, &tag, &start, &stop) < 0)
        return -1;
    if (tag != INTEGER || start == stop || stop - start > 9) {
        ber_error("expected INTEGER");
        return -1;
    }
    *value = signed_value(buf + start, stop - start);
    *object = int_from_bytes(buf + start, stop - start);
    *after = stop;
    return *object == NULL ? -1 : 0;
}

static PyObject *py_read_int(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *buf;
    Py_ssize_t len, pos, end, after;
    __int128 value;
    PyObject *object;
    if (parse_args(args, nargs, "read_int", &buf, &len, &pos, &end) < 0
        || integer(buf, len, pos, end, &value, &object, &after) < 0)
        return NULL;
    return Py_BuildValue("(Nn)", object, after);
}

static PyObject *py_read_octets(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *buf;
    Py_ssize_t len, pos, end, start, stop;
    int tag;
    if (parse_args(args, nargs, "read_octets", &buf, &len, &pos, &end) < 0
        || header(buf, len, pos, end, &tag, &start, &stop) < 0)
        return NULL;
    if (tag != OCTET_STRING)
        return ber_error("expected OCTET STRING");
    return Py_BuildValue("(y#n)", (const char *)buf + start, stop - start, stop);
}

/* a length octet already read (pos is after it): in long form (0x81..0x84) the length is
 * read from the octets at pos, as the Python loop read them: not checked against any end
 * (the checks after it catch overruns) */
static inline int long_form(const unsigned char *buf, Py_ssize_t len, Py_ssize_t *pos, Py_ssize_t *length)
{
    if (!(*length & 0x80))
        return 0;
    int count = *length & 0x7F;
    if (!(0 < count && count <= 4))
        return -1;
    *length = read_length(buf, len, *pos, count);
    *pos += count;
    return 0;
}

/* a varbind's list of (oid, tag, raw) from pos to vbl_end; NULL with BerError set */
static PyObject *varbind_list(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos, Py_ssize_t vbl_end)
{
    PyObject *varbinds = PyList_New(0);
    if (varbinds == NULL)
        return NULL;
    const char *problem = NULL;  /* a BerError's message, set before `goto refuse` */
/* data[at] as the Python reader read it: past the data it was an IndexError */
#define NEED(at) do { if ((at) >= len) { problem = "truncated varbind"; goto refuse; } } while (0)
    while (pos < vbl_end) {
        if (buf[pos] != SEQUENCE) {
            problem = "expected varbind";
            goto refuse;
        }
        NEED(pos + 1);
        Py_ssize_t length = buf[pos + 1];
        pos += 2;
        if (long_form(buf, len, &pos, &length) < 0) {
            problem = "bad length";
            goto refuse;
        }
        Py_ssize_t vb_end = pos + length;
        NEED(pos);
        if (buf[pos] != OBJECT_ID) {
            problem = "expected OBJECT IDENTIFIER";
            goto refuse;
        }
        NEED(pos + 1);
        length = buf[pos + 1];
        Py_ssize_t oid_start, oid_stop;
        if (length & 0x80) {
            int tag;  /* OBJECT_ID, checked above; header() reads past the data only in read_length (clamped) */
            if (header(buf, len, pos, vb_end, &tag, &oid_start, &oid_stop) < 0)
                goto failed;
            pos = oid_stop;
        } else {
            oid_start = pos + 2;
            oid_stop = pos + 2 + length;
            pos = oid_stop;
        }
        Py_ssize_t oid_from = clamp(oid_start, len), oid_len = clamp(oid_stop, len) - oid_from;
        NEED(pos);
        int value_tag = buf[pos];
        NEED(pos + 1);
        length = buf[pos + 1];
        pos += 2;
        if (long_form(buf, len, &pos, &length) < 0) {
            problem = "bad length";
            goto refuse;
        }
        Py_ssize_t stop = pos + length;
        if (stop != vb_end || oid_len == 0 || !is_scalar_tag(value_tag)) {
            problem = "malformed varbind";
            goto refuse;
        }
        Py_ssize_t raw_from = clamp(pos, len), raw_len = clamp(stop, len) - raw_from;
        int rule = smi_rule(value_tag);
        if (rule > RULE_INT32) {  /* unsigned: out of range, or leading zero octets, for a closer look */
            int fast = 0;
            if ((0 < length && length < rule) || length == rule) {
                NEED(pos);
                fast = length < rule ? buf[pos] < 0x80 : buf[pos] == 0;
            }
            if (!fast && check_smi_range(value_tag, buf + raw_from, raw_len) < 0)
                goto failed;
        } else if (rule == RULE_INT32) {
            if (!(0 < length && length <= 4) && check_smi_range(value_tag, buf + raw_from, raw_len) < 0)
                goto failed;
        } else if (rule == RULE_IP) {
            if (length != 4) {
                PyErr_Format(BerError, "IpAddress of %zd octets (the SMI says 4)", length);
                goto failed;
            }
        } else if (rule == RULE_EMPTY && length) {
            problem = "NULL or exception value with content";
            goto refuse;
        }
        const unsigned char *oid = buf + oid_from;
        if (!is_ascii(oid, oid_len) && !valid_oid(oid, oid_len)) {
            problem = "OID sub-identifier that is cut short or starts with a 0x80 octet";
            goto refuse;
        }
        if (value_tag == OBJECT_ID) {
            if (!(pos < stop)) {
                problem = "OID value that is empty, cut short or has a 0x80-led sub-identifier";
                goto refuse;
            }
            NEED(pos);  /* an empty slice: the Python reader's encoded[-1] was an IndexError */
            if (!valid_oid(buf + raw_from, raw_len)) {
                problem = "OID value that is empty, cut short or has a 0x80-led sub-identifier";
                goto refuse;
            }
        }
        PyObject *varbind = PyTuple_New(3);
        if (varbind == NULL)
            goto failed;
        PyObject *oid_bytes = PyBytes_FromStringAndSize((const char *)oid, oid_len);
        PyObject *tag_int = PyLong_FromLong(value_tag);
        PyObject *raw = PyBytes_FromStringAndSize((const char *)buf + raw_from, raw_len);
        if (oid_bytes) PyTuple_SET_ITEM(varbind, 0, oid_bytes);
        if (tag_int) PyTuple_SET_ITEM(varbind, 1, tag_int);
        if (raw) PyTuple_SET_ITEM(varbind, 2, raw);
        if (!oid_bytes || !tag_int || !raw || PyList_Append(varbinds, varbind) < 0) {
            Py_DECREF(varbind);
            goto failed;
        }
        Py_DECREF(varbind);
        pos = stop;
    }
#undef NEED
    if (pos != vbl_end) {
        problem = "varbind list overruns its sequence";
        goto refuse;
    }
    return varbinds;
refuse:
    PyErr_SetString(BerError, problem);
failed:
    Py_DECREF(varbinds);
    return NULL;
}

/* (tag, request_id, error_status, error_index, varbinds) of the PDU from pos to end */
static PyObject *pdu_at(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos, Py_ssize_t end)
{
    Py_ssize_t pdu_end, vbl_end;
    int tag, seq_tag;
    if (header(buf, len, pos, end, &tag, &pos, &pdu_end) < 0)
        return NULL;
    if (!is_pdu_tag(tag))
        return PyErr_Format(BerError, "not an SNMP PDU (tag 0x%02x)", tag);
    if (pdu_end != end)
        return ber_error("bytes after the PDU inside its message");
    __int128 fields[3];
    PyObject *objects[3] = {NULL, NULL, NULL};
    PyObject *result = NULL;
    for (int i = 0; i < 3; i++)
        if (integer(buf, len, pos, pdu_end, &fields[i], &objects[i], &pos) < 0)
            goto done;
    __int128 error_status = fields[1], error_index = fields[2];
    if (error_index < 0 || error_status < 0 || (error_status > 18 && tag != GET_BULK_REQUEST)) {
        ber_error("error-status or error-index out of range");  /* RFC 3416: 0..18, 0..max-bindings */
        goto done;
    }
    if (header(buf, len, pos, pdu_end, &seq_tag, &pos, &vbl_end) < 0)
        goto done;
    if (seq_tag != SEQUENCE) {
        ber_error("expected varbind list");
        goto done;
    }
    if (vbl_end != pdu_end) {  /* pysnmp refuses a PDU with more components than its four */
        ber_error("bytes after the varbind list inside the PDU");
        goto done;
    }
    PyObject *varbinds = varbind_list(buf, len, pos, vbl_end);
    if (varbinds != NULL)
        result = Py_BuildValue("(iOOON)", tag, objects[0], objects[1], objects[2], varbinds);
done:
    for (int i = 0; i < 3; i++)
        Py_XDECREF(objects[i]);
    return result;
}

static PyObject *py_decode_pdu(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *buf;
    Py_ssize_t len, pos, end;
    if (parse_args(args, nargs, "decode_pdu", &buf, &len, &pos, &end) < 0)
        return NULL;
    return pdu_at(buf, len, pos, end);
}

static PyObject *py_decode_v2c_message(PyObject *module, PyObject *data)
{
    if (!PyBytes_Check(data))
        return PyErr_Format(PyExc_TypeError, "decode_v2c_message() reads bytes, not %.50s", Py_TYPE(data)->tp_name);
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t len = PyBytes_GET_SIZE(data), pos, end, start, stop;
    int tag;
    if (header(buf, len, 0, len, &tag, &pos, &end) < 0)
        return NULL;
    if (tag != SEQUENCE)
        return ber_error("not an SNMP message");
    __int128 version;
    PyObject *version_object;
    if (integer(buf, len, pos, end, &version, &version_object, &pos) < 0)
        return NULL;
    if (version != 0 && version != 1) {
        PyErr_Format(BerError, "unexpected SNMP version %S", version_object);
        Py_DECREF(version_object);
        return NULL;
    }
    Py_DECREF(version_object);
    if (header(buf, len, pos, end, &tag, &start, &stop) < 0)
        return NULL;
    if (tag != OCTET_STRING)
        return ber_error("expected OCTET STRING");
    PyObject *pdu = pdu_at(buf, len, stop, end);
    return pdu == NULL ? NULL : Py_BuildValue("(y#N)", (const char *)buf + start, stop - start, pdu);
}

static PyMethodDef methods[] = {
    {"read_header", (PyCFunction)(void (*)(void))py_read_header, METH_FASTCALL,
     "read_header(data, pos, end) -> (tag, content start, content end) of the TLV at pos, checked against end."},
    {"read_int", (PyCFunction)(void (*)(void))py_read_int, METH_FASTCALL,
     "read_int(data, pos, end) -> (value, end of the INTEGER) of 1..9 octets."},
    {"read_octets", (PyCFunction)(void (*)(void))py_read_octets, METH_FASTCALL,
     "read_octets(data, pos, end) -> (content, end of the OCTET STRING)."},
    {"decode_pdu", (PyCFunction)(void (*)(void))py_decode_pdu, METH_FASTCALL,
     "decode_pdu(data, pos, end) -> (tag, request_id, error_status, error_index, [(oid, tag, raw), ...]):\n"
     "the PDU from pos, which must end at end."},
    {"decode_v2c_message", (PyCFunction)py_decode_v2c_message, METH_O,
     "decode_v2c_message(data) -> (community, decode_pdu's tuple) of an SNMPv1/v2c message."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module)
{
    BerError = PyErr_NewExceptionWithDoc("exporters.snmp.ber.BerError",
                                         "A datagram that is not a well-formed SNMP message.",
                                         PyExc_ValueError, NULL);
    if (BerError == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "BerError", BerError) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "exporters.snmp._ber",
    .m_doc = "The BER reader of exporters.snmp.ber (decoding in C; encoding stays in Python).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit__ber(void)
{
    return PyModuleDef_Init(&module_def);
}
