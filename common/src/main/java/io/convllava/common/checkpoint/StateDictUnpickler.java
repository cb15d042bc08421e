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

    private final ByteBuffer in;
    private final Path file;
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
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException | ClassCastException e) {
            throw new CheckpointException("malformed pickle in " + file + ": " + e, e);
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
                case '(' -> marks.push(stack.size()); // MARK
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 't' -> push(Collections.unmodifiableList(popMark())); // TUPLE
                case 0x85 -> push(tuple(1)); // TUPLE1
                case 0x86 -> push(tuple(2)); // TUPLE2
                case 0x87 -> push(tuple(3)); // TUPLE3
                case 'l' -> push(popMark()); // LIST
                case 'd' -> push(dictOf(popMark())); // DICT
                case 'N' -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 'J' -> push((long) in.getInt()); // BININT
                case 0x8a -> push(littleEndianLong(in.get() & 0xff, at)); // LONG1
                case 0x8b -> push(littleEndianLong(in.getInt(), at)); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT (big-endian)
                case 'X' -> push(string(in.getInt(), StandardCharsets.UTF_8)); // BINUNICODE
                case 0x8c -> push(string(in.get() & 0xff, StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                case 0x8d -> push(string(Math.toIntExact(in.getLong()), StandardCharsets.UTF_8)); // BINUNICODE8
                case 'T' -> push(string(in.getInt(), StandardCharsets.ISO_8859_1)); // BINSTRING
                case 'U' -> push(string(in.get() & 0xff, StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'B' -> push(bytes(in.getInt())); // BINBYTES
                case 'C' -> push(bytes(in.get() & 0xff)); // SHORT_BINBYTES
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
                    dict(peek()).put(key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    Map<Object, Object> target = dict(peek());
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        target.put(items.get(i), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object value = pop();
                    list(peek()).add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case 'q' -> memo.put((long) (in.get() & 0xff), peek()); // BINPUT
                case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
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
            throw new CheckpointException(file + ": pickle REDUCE on " + callable + ", which is not a callable global");
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!args.isEmpty()) {
                    throw new CheckpointException(file + ": collections.OrderedDict called with arguments " + args);
                }
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                if (args.size() < 4 || !(args.get(0) instanceof PickledTensor.Storage storage)) {
                    throw new CheckpointException(file + ": _rebuild_tensor_v2 called with " + args);
                }
                return new PickledTensor(storage, (Long) args.get(1), longs(args.get(2)), longs(args.get(3)));
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (args.isEmpty() || !(args.get(0) instanceof PickledTensor tensor)) {
                    throw new CheckpointException(file + ": " + g.qualified() + " called with " + args);
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
            throw new CheckpointException(file + ": pickle BUILD on unexpected object " + target);
        }
    }

    /** persistent_load of {@code ('storage', torch.XStorage, key, location, numel)}. */
    private Object storage(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() < 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof Global type) || !STORAGE_TYPES.containsKey(type.name())) {
            throw new CheckpointException(file + ": unsupported persistent id " + pid);
        }
        return new PickledTensor.Storage(STORAGE_TYPES.get(type.name()), (String) t.get(2), (Long) t.get(4));
    }

    private long[] longs(Object tuple) {
        List<?> items = (List<?>) tuple;
        long[] result = new long[items.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = (Long) items.get(i);
        }
        return result;
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

    private String string(int length, java.nio.charset.Charset charset) {
        return new String(bytes(length), charset);
    }

    private byte[] bytes(int length) {
        byte[] b = new byte[length];
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
        List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return Collections.unmodifiableList(items);
    }

    private Map<Object, Object> dictOf(List<Object> items) {
        Map<Object, Object> d = new LinkedHashMap<>();
        for (int i = 0; i + 1 < items.size(); i += 2) {
            d.put(items.get(i), items.get(i + 1));
        }
        return d;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw new CheckpointException("malformed pickle in " + file + ": no MARK on the stack");
        }
        int mark = marks.pop();
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
            throw new CheckpointException("malformed pickle in " + file + ": SETITEM(S) on " + o);
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof ArrayList)) {
            throw new CheckpointException("malformed pickle in " + file + ": APPEND(S) on " + o);
        }
        return (List<Object>) o;
    }

    private void push(Object o) {
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
