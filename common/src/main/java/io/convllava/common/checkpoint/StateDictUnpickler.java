package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal pickle virtual machine for the {@code data.pkl} of a {@code torch.save}d state dict. It executes no
 * code: the only globals it accepts are {@code collections.OrderedDict}, the tensor/parameter rebuild functions
 * and the typed storage classes, each interpreted by Java code here; any other global is refused as soon as it is
 * named. Tuples and lists become {@link List}s, dicts {@link Map}s, tensors {@link PickledTensor}s.
 */
final class StateDictUnpickler {

    /** A global the pickle named and we allow. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    private static final Map<String, DType> STORAGE_TYPES = Map.of(
            "BFloat16Storage", DType.BF16, "HalfStorage", DType.F16, "FloatStorage", DType.F32,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);
    private static final List<String> FUNCTIONS = List.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state");

    /** Values on the stack at once: a state dict's pickle holds one SETITEMS batch (1000 pairs) and a tensor's arguments. */
    static final int MAX_STACK = 100_000;
    /** MARKs open at once: a state dict nests about four (dict items, rebuild arguments, persistent id, shape). */
    static final int MAX_MARKS = 1_000;
    /** Memo entries: torch.save memoizes about 8 objects per tensor, so this leaves room for over 100,000 tensors. */
    static final int MAX_MEMO = 1_000_000;
    /** Items put into tuples, lists and dicts, all together: about 17 per tensor, room for over 200,000 tensors. */
    static final long MAX_ITEMS = 4_000_000;

    private final ByteBuffer in;
    private final Path file;
    private long items;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private StateDictUnpickler(byte[] pickle, Path file) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
    }

    /** Runs the pickle and returns its root object. */
    static Object load(byte[] pickle, Path file) {
        try {
            return new StateDictUnpickler(pickle, file).run();
        } catch (java.nio.BufferUnderflowException e) {
            throw new CheckpointException("malformed pickle in " + file + ": it ends in the middle of an opcode", e);
        } catch (IndexOutOfBoundsException e) {
            throw new CheckpointException("malformed pickle in " + file + ": " + e, e);
        } catch (ClassCastException e) {
            throw new CheckpointException("malformed pickle in " + file + ": a value has the wrong type (" + e.getMessage()
                    + ")", e);
        }
    }

    private Object run() {
        while (true) {
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME: a size hint only
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> mark(at); // MARK
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 't' -> push(Collections.unmodifiableList(popMark())); // TUPLE
                case 0x85 -> push(tuple(1)); // TUPLE1
                case 0x86 -> push(tuple(2)); // TUPLE2
                case 0x87 -> push(tuple(3)); // TUPLE3
                case 'l' -> push(popMark()); // LIST
                case 'd' -> push(dictOf(popMark(), at)); // DICT
                case 'N' -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 'J' -> push((long) in.getInt()); // BININT
                case 0x8a -> push(littleEndianLong(in.get() & 0xff, at)); // LONG1
                case 0x8b -> push(littleEndianLong(in.getInt(), at)); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT (big-endian)
                case 'X' -> push(string(in.getInt(), at, StandardCharsets.UTF_8)); // BINUNICODE
                case 0x8c -> push(string(in.get() & 0xff, at, StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                case 0x8d -> push(string(in.getLong(), at, StandardCharsets.UTF_8)); // BINUNICODE8
                case 'T' -> push(string(in.getInt(), at, StandardCharsets.ISO_8859_1)); // BINSTRING
                case 'U' -> push(string(in.get() & 0xff, at, StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'B' -> push(bytes(in.getInt(), at)); // BINBYTES
                case 'C' -> push(bytes(in.get() & 0xff, at)); // SHORT_BINBYTES
                case 'c' -> push(global(line(), line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    String name = (String) pop();
                    push(global((String) pop(), name));
                }
                case 'R' -> { // REDUCE
                    List<?> args = (List<?>) pop();
                    push(reduce(pop(), args));
                }
                case 'b' -> build(pop()); // BUILD
                case 'Q' -> push(storage(pop())); // BINPERSID
                case 's' -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    dict(peek()).put(key(key, at), value);
                    count(1);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    Map<Object, Object> target = dict(peek());
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        target.put(key(items.get(i), at), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object value = pop();
                    list(peek()).add(value);
                    count(1);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case 'q' -> memoPut(in.get() & 0xff, at); // BINPUT
                case 'r' -> memoPut(in.getInt() & 0xffffffffL, at); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size(), at); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xff, at)); // BINGET
                case 'j' -> push(memoGet(in.getInt() & 0xffffffffL, at)); // LONG_BINGET
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                default -> throw new CheckpointException(String.format(
                        "unsupported pickle opcode 0x%02x at offset %d in %s (not something a state dict needs)",
                        op, at, file));
            }
        }
    }

    private Object global(String module, String name) {
        Global g = new Global(module, name);
        boolean storage = module.equals("torch") && STORAGE_TYPES.containsKey(name);
        if (!storage && !FUNCTIONS.contains(g.qualified())) {
            throw new CheckpointException(file + ": the pickle references the global '" + g.qualified()
                    + "', which a state dict never needs; refusing to load it (allowed: " + FUNCTIONS
                    + " and torch.*Storage types)");
        }
        return g;
    }

    private Object reduce(Object callable, List<?> args) {
        if (!(callable instanceof Global g)) {
            throw new CheckpointException(file + ": pickle REDUCE on " + describe(callable)
                    + ", which is not a callable global");
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!args.isEmpty()) {
                    throw new CheckpointException(file + ": collections.OrderedDict called with arguments "
                            + describe(args));
                }
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                if (args.size() < 4 || !(args.get(0) instanceof PickledTensor.Storage storage)) {
                    throw new CheckpointException(file + ": _rebuild_tensor_v2 called with " + describe(args));
                }
                return new PickledTensor(storage, integer(args.get(1), "a tensor's storage offset"),
                        longs(args.get(2), "a tensor's size"), longs(args.get(3), "a tensor's stride"));
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (args.isEmpty() || !(args.get(0) instanceof PickledTensor tensor)) {
                    throw new CheckpointException(file + ": " + g.qualified() + " called with " + describe(args));
                }
                return tensor;
            }
            default -> throw new CheckpointException(file + ": the pickle calls " + g.qualified()
                    + ", which is not a function");
        }
    }

    /** BUILD sets attributes (e.g. an OrderedDict's {@code _metadata}); nothing we read depends on them. */
    private void build(Object state) {
        Object target = peek();
        if (!(target instanceof Map) && !(target instanceof PickledTensor)) {
            throw new CheckpointException(file + ": pickle BUILD on unexpected object " + describe(target));
        }
    }

    /** persistent_load of {@code ('storage', torch.XStorage, key, location, numel)}. */
    private Object storage(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() < 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof Global type) || !STORAGE_TYPES.containsKey(type.name())
                || !(t.get(2) instanceof String key)) {
            throw new CheckpointException(file + ": unsupported persistent id " + describe(pid));
        }
        return new PickledTensor.Storage(STORAGE_TYPES.get(type.name()), key,
                integer(t.get(4), "the element count of storage '" + key + "'"));
    }

    private long[] longs(Object tuple, String what) {
        if (!(tuple instanceof List<?> items)) {
            throw new CheckpointException(file + ": " + what + " is " + describe(tuple) + ", not a tuple of integers");
        }
        long[] result = new long[items.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = integer(items.get(i), what);
        }
        return result;
    }

    private long integer(Object o, String what) {
        if (!(o instanceof Long value)) {
            throw new CheckpointException(file + ": " + what + " is " + describe(o) + ", not an integer");
        }
        return value;
    }

    private long littleEndianLong(int n, int at) {
        if (n < 0 || n > 8) {
            throw new CheckpointException(file + ": pickle integer of " + n + " bytes at offset " + at
                    + " is too large");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (in.get() & 0xffL) << (8 * i);
        }
        if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) {
            v |= -1L << (8 * n); // sign-extend
        }
        return v;
    }

    private String string(long length, int at, java.nio.charset.Charset charset) {
        return new String(bytes(length, at), charset);
    }

    /** The next {@code length} bytes; the declared length is checked against the bytes left before anything is allocated. */
    private byte[] bytes(long length, int at) {
        if (length < 0 || length > in.remaining()) {
            throw new CheckpointException("malformed pickle in " + file + ": a string or bytes value at offset " + at
                    + " declares " + length + " bytes but only " + in.remaining() + " are left");
        }
        byte[] b = new byte[(int) length];
        in.get(b);
        return b;
    }

    /** A newline-terminated ASCII argument (GLOBAL's module and name). */
    private String line() {
        int start = in.position();
        while (in.get() != '\n') {
            // scan
        }
        return new String(in.array(), start, in.position() - start - 1, StandardCharsets.US_ASCII);
    }

    private List<Object> tuple(int n) {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() - floor < n) {
            throw new CheckpointException("malformed pickle in " + file + ": stack underflow");
        }
        count(n);
        List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return Collections.unmodifiableList(items);
    }

    private Map<Object, Object> dictOf(List<Object> items, int at) {
        Map<Object, Object> d = new LinkedHashMap<>();
        for (int i = 0; i + 1 < items.size(); i += 2) {
            d.put(key(items.get(i), at), items.get(i + 1));
        }
        return d;
    }

    /**
     * A dict key must be a scalar (a state dict's keys are strings): hashing a tuple or list would recurse into it,
     * without bound for a deeply nested or self-containing one.
     */
    private Object key(Object key, int at) {
        if (key == null || key instanceof String || key instanceof Long || key instanceof Boolean
                || key instanceof Double) {
            return key;
        }
        throw new CheckpointException("malformed pickle in " + file + ": dict key " + describe(key) + " at offset "
                + at + " is not a string or number, which a state dict's keys are");
    }

    private void mark(int at) {
        if (marks.size() >= MAX_MARKS) {
            throw tooLarge(MAX_MARKS + " nested MARKs", at);
        }
        marks.push(stack.size());
    }

    private void memoPut(long key, int at) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) {
            throw tooLarge(MAX_MEMO + " memo entries", at);
        }
        memo.put(key, peek());
    }

    /** Counts {@code n} more items put into containers against {@link #MAX_ITEMS}. */
    private void count(long n) {
        items += n;
        if (items > MAX_ITEMS) {
            throw tooLarge(MAX_ITEMS + " items in tuples, lists and dicts", in.position());
        }
    }

    private CheckpointException tooLarge(String limit, int at) {
        return new CheckpointException("pickle in " + file + " exceeds the limit of " + limit + " at offset " + at
                + "; a state dict needs far fewer");
    }

    /**
     * A short description of an unpickled value for error messages: its type and size, never its contents, since
     * printing a nested or self-containing value would recurse without bound.
     */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String || o instanceof Long || o instanceof Boolean || o instanceof Double) {
            String s = o.toString();
            return s.length() > 120 ? "'" + s.substring(0, 120) + "...'" : o instanceof String ? "'" + s + "'" : s;
        }
        if (o instanceof Global g) {
            return g.qualified();
        }
        if (o instanceof List<?> l) {
            return "a tuple or list of " + l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return "a dict of " + m.size();
        }
        return "a " + o.getClass().getSimpleName();
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw new CheckpointException("malformed pickle in " + file + ": no MARK on the stack");
        }
        int mark = marks.pop();
        count(stack.size() - mark);
        List<Object> items = new ArrayList<>(stack.subList(mark, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private Object memoGet(long key, int at) {
        if (!memo.containsKey(key)) {
            throw new CheckpointException("malformed pickle in " + file + ": memo key " + key + " unset at offset " + at);
        }
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (!(o instanceof Map)) {
            throw new CheckpointException("malformed pickle in " + file + ": SETITEM(S) on " + describe(o));
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof ArrayList)) {
            throw new CheckpointException("malformed pickle in " + file + ": APPEND(S) on " + describe(o));
        }
        return (List<Object>) o;
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) {
            throw tooLarge(MAX_STACK + " values on the stack", in.position());
        }
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.peek() == stack.size())) {
            throw new CheckpointException("malformed pickle in " + file + ": stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.isEmpty()) {
            throw new CheckpointException("malformed pickle in " + file + ": stack underflow");
        }
        return stack.get(stack.size() - 1);
    }
}
