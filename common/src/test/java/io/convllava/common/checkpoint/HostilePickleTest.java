package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.convllava.common.checkpoint.Refusals.assertRefused;
import static io.convllava.common.testing.BitExact.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Crafted {@code data.pkl}s and tensor views in torch.save archives: each is refused with a CheckpointException naming
 * the file and the fault, before anything is allocated by a declared size.
 */
class HostilePickleTest {
    private static final long HUGE = 1L << 62;

    @TempDir
    Path tmp;

    private Path write(String name, TorchZipBuilder b) throws Exception {
        Path file = tmp.resolve(name);
        b.write(file);
        return file;
    }

    @Test
    void theValidBaselineLoads() throws Exception {
        Path file = write("ok.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        try (TensorSource src = Checkpoints.open(file)) {
            assertArrayEquals(new float[] {1, 2, 3}, toArray(src.readFloat("w", 3)));
        }
    }

    @Test
    void stringLongerThanThePickleIsRefusedBeforeAllocating() throws Exception {
        // BINUNICODE asking for 2^31-1 bytes in a 7-byte pickle: used to allocate them (OutOfMemoryError)
        Path file = write("long-string.bin", new TorchZipBuilder().op(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f));
        assertRefused(file, "offset 2", "declares 2147483647 bytes", "only 0 are left");
    }

    @Test
    void negativeStringLengthIsRefused() throws Exception {
        Path file = write("negative-string.bin", new TorchZipBuilder().op(0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff, '.'));
        assertRefused(file, "declares -1 bytes");
    }

    @Test
    void hugeBinunicode8AndBinbytesAreRefused() throws Exception {
        Path eight = write("unicode8.bin", new TorchZipBuilder().op(0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'));
        assertRefused(eight, "declares " + (1L << 62) + " bytes");
        Path bytes = write("binbytes.bin", new TorchZipBuilder().op(0x80, 3, 'B', 0, 0, 0, 0x80, '.'));
        assertRefused(bytes, "declares " + Integer.MIN_VALUE + " bytes");
    }

    @Test
    void pickleEndingInsideAnOpcodeIsRefused() throws Exception {
        Path file = write("cut.bin", new TorchZipBuilder().op(0x80, 2, '}', 'J', 1, 2));
        assertRefused(file, "malformed pickle", "ends in the middle of an opcode");
    }

    @Test
    void unboundedStackIsRefused() throws Exception {
        Path file = write("stack.bin", new TorchZipBuilder().op(0x80, 2).repeat('N', StateDictUnpickler.MAX_STACK + 1));
        assertRefused(file, "limit of " + StateDictUnpickler.MAX_STACK + " values on the stack");
    }

    @Test
    void unboundedMarksAreRefused() throws Exception {
        Path file = write("marks.bin", new TorchZipBuilder().op(0x80, 2).repeat('(', StateDictUnpickler.MAX_MARKS + 1));
        assertRefused(file, "limit of " + StateDictUnpickler.MAX_MARKS + " nested MARKs");
    }

    @Test
    void unboundedMemoIsRefused() throws Exception {
        // MEMOIZE files the top of the stack under a new key each time: one byte per memo entry
        Path file = write("memo.bin",
                new TorchZipBuilder().op(0x80, 4, 'N').repeat(0x94, StateDictUnpickler.MAX_MEMO + 1));
        assertRefused(file, "limit of " + StateDictUnpickler.MAX_MEMO + " memo entries");
    }

    @Test
    void unboundedContainersAreRefused() throws Exception {
        // one list grown by APPENDS of 50,000 Nones at a time, past the item budget
        TorchZipBuilder b = new TorchZipBuilder().op(0x80, 2, ']');
        for (long added = 0; added <= StateDictUnpickler.MAX_ITEMS; added += 50_000) {
            b.op('(').repeat('N', 50_000).op('e');
        }
        Path file = write("items.bin", b);
        assertRefused(file, "limit of " + StateDictUnpickler.MAX_ITEMS + " items");
    }

    @Test
    void selfContainingDictKeyIsRefusedInsteadOfOverflowingTheStack() throws Exception {
        // {L: None} where L = [L]: hashing L used to recurse forever (StackOverflowError)
        Path file = write("cyclic-key.bin", new TorchZipBuilder().op(0x80, 2, '}', ']', '2', 'a', 'N', 's', '.'));
        assertRefused(file, "dict key a tuple or list of 1", "is not a string or number");
    }

    @Test
    void cyclicValueInAnErrorMessageIsDescribedNotPrinted() throws Exception {
        // L1 = [L2], L2 = [L1], then REDUCE(L1, L1): printing L1 used to recurse forever
        Path file = write("cyclic-reduce.bin", new TorchZipBuilder()
                .op(0x80, 2, ']', 'q', 0, ']', 'h', 0, 'a', 'a', '2', 'R', '.'));
        assertRefused(file, "REDUCE on a tuple or list of 1", "not a callable global");
    }

    @Test
    void wrongTypeWhereATensorNeedsAnIntegerIsNamed() throws Exception {
        Path file = write("none-offset.bin", new TorchZipBuilder()
                .op(0x80, 2, '}', '(').string("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').string("storage").global("torch", "FloatStorage").string("0").string("cpu").integer(3)
                .op('t', 'Q', 'N').intTuple(3).intTuple(1).op(0x89).global("collections", "OrderedDict")
                .op(')', 'R', 't', 'R', 'u', '.')
                .floatStorage(0, 1, 2, 3));
        assertRefused(file, "a tensor's storage offset is None, not an integer");
    }

    @Test
    void shapeWhoseElementCountOverflowsIsRefused() throws Exception {
        Path file = write("numel.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {HUGE, HUGE}, new long[] {0, 0}));
        assertRefused(file, "tensor 'w'", "overflows 64 bits");
    }

    @Test
    void strideReachingPastTheStorageByOverflowIsRefused() throws Exception {
        // (3 - 1) * 2^62 wraps to a negative span, which used to pass the storage bounds check
        Path file = write("stride.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {HUGE}));
        assertRefused(file, "tensor 'w'", "addresses elements outside its storage '0' of 3");
    }

    @Test
    void negativeOffsetAndSizeAreRefused() throws Exception {
        assertRefused(write("offset.bin", TorchZipBuilder.oneFloatTensor(3, -1, new long[] {1}, new long[] {1})),
                "tensor 'w'", "outside its storage");
        assertRefused(write("size.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {-2}, new long[] {1})),
                "tensor 'w'", "negative dimension");
        assertRefused(write("rank.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[TensorShapes.MAX_RANK + 1],
                new long[TensorShapes.MAX_RANK + 1])), "tensor 'w'", "more than the limit of " + TensorShapes.MAX_RANK);
    }

    @Test
    void storageLargerThanItsEntryIsRefused() throws Exception {
        assertRefused(write("storage.bin", TorchZipBuilder.oneFloatTensor(1L << 40, 0, new long[] {3}, new long[] {1})),
                "tensor 'w'", "storage entry 'archive/data/0' has 12 bytes");
        assertRefused(write("negative-storage.bin", TorchZipBuilder.oneFloatTensor(-3, 0, new long[] {0}, new long[] {1})),
                "tensor 'w'", "negative element count -3");
        assertRefused(write("storage-bytes.bin", TorchZipBuilder.oneFloatTensor(HUGE, 0, new long[] {3}, new long[] {1})),
                "tensor 'w'", "byte size overflows");
    }

    @Test
    void compressedPickleIsRefusedWhateverSizeItDeclares() throws Exception {
        Path file = write("deflated.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        ZipBytes zip = ZipBytes.of(file);
        int cd = zip.central("archive/data.pkl");
        zip.putShort(cd + ZipBytes.CENTRAL_METHOD, 8).putInt(cd + ZipBytes.CENTRAL_SIZE, 0x7fffffff).write(file);
        assertRefused(file, "'archive/data.pkl' is compressed (method 8)");
    }
}
