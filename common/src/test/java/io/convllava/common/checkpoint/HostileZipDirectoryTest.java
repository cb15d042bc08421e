package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.convllava.common.checkpoint.Refusals.assertRefused;

/** torch.save archives with a crafted zip directory: each is refused naming the file and the entry or field at fault. */
class HostileZipDirectoryTest {
    @TempDir
    Path tmp;

    private Path write(String name, TorchZipBuilder b) throws Exception {
        Path file = tmp.resolve(name);
        b.write(file);
        return file;
    }

    @Test
    void storedEntryWhoseSizesDisagreeIsRefused() throws Exception {
        Path file = write("sizes.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        ZipBytes zip = ZipBytes.of(file);
        zip.putInt(zip.central("archive/data.pkl") + ZipBytes.CENTRAL_SIZE, 0x7fffffff).write(file);
        assertRefused(file, "stored entry 'archive/data.pkl' declares 2147483647 bytes");
    }

    @Test
    void entryStartingOutsideTheFileIsRefused() throws Exception {
        Path file = write("local.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        ZipBytes zip = ZipBytes.of(file);
        zip.putInt(zip.central("archive/data/0") + ZipBytes.CENTRAL_LOCAL_OFFSET, 0x7fff0000).write(file);
        assertRefused(file, "entry 'archive/data/0' starts at offset " + 0x7fff0000 + ", outside the file");
    }

    @Test
    void entryCountBeyondTheDirectoryIsRefused() throws Exception {
        Path file = write("count.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        ZipBytes zip = ZipBytes.of(file);
        zip.putShort(zip.eocd() + ZipBytes.EOCD_COUNT, 0xfffe).write(file);
        assertRefused(file, "declares 65534 entries");
    }

    @Test
    void centralDirectoryOutsideTheFileIsRefused() throws Exception {
        Path file = write("cd.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1}));
        ZipBytes zip = ZipBytes.of(file);
        zip.putInt(zip.eocd() + ZipBytes.EOCD_CD_OFFSET, 0xfffffff0L).write(file);
        assertRefused(file, "zip central directory needs");
    }

    @Test
    void entryNamesThatClimbOrAreAbsoluteAreRefused() throws Exception {
        byte[] one = {1};
        assertRefused(write("dotdot.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1})
                .extraEntry("archive/../../etc/passwd", one)), "entry name 'archive/../../etc/passwd'");
        assertRefused(write("absolute.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1})
                .extraEntry("/archive/x", one)), "entry name '/archive/x'");
    }

    @Test
    void duplicateEntryNamesAreRefused() throws Exception {
        Path file = write("duplicate.bin", TorchZipBuilder.oneFloatTensor(3, 0, new long[] {3}, new long[] {1})
                .extraEntry("archive/extra/a", new byte[] {1}).extraEntry("archive/extra/b", new byte[] {2}));
        ZipBytes zip = ZipBytes.of(file);
        int cd = zip.central("archive/extra/b");
        zip.putBytes(cd + ZipBytes.CENTRAL_NAME, "archive/extra/a".getBytes(StandardCharsets.UTF_8)).write(file);
        assertRefused(file, "entry 'archive/extra/a' appears twice");
    }
}
