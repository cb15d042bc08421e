package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Split one-row products (two threads, column halves) equal the single libtorch product. */
class ProductSplitterTest {
    private static NDManager manager;
    private static ProductSplitter splitter;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        splitter = ProductSplitter.forTarget(new ComputeTarget(Device.cpu(), DataType.FLOAT32));
    }

    @AfterAll
    static void tearDown() {
        splitter.close();
        manager.close();
    }

    @Test
    void oneRowProductOfALargeWeightMatchesTheSingleProduct() {
        NDArray w = manager.randomUniform(-0.05f, 0.05f, new Shape(2048, 2560)); // above the split threshold
        NDArray x = manager.randomUniform(-1f, 1f, new Shape(1, 2048));
        float[] expected = x.matMul(w).toFloatArray();

        NDArray product = splitter.product(x, SplitWeight.halves(w));

        assertEquals(new Shape(1, 2560), product.getShape());
        assertArrayEquals(expected, product.toFloatArray(), 1e-5f);
    }

    @Test
    void halvesSplitTheOutputColumnsAtTheGivenColumn() {
        NDArray w = manager.randomUniform(-0.05f, 0.05f, new Shape(1024, 4608));
        NDArray x = manager.randomUniform(-1f, 1f, new Shape(1, 1024));
        NDArray expected = x.matMul(w);

        NDList halves = splitter.halves(x, SplitWeight.of(w, 1000));

        assertEquals(new Shape(1, 1000), halves.get(0).getShape());
        assertEquals(new Shape(1, 3608), halves.get(1).getShape());
        assertArrayEquals(expected.get(":, :1000").toFloatArray(), halves.get(0).toFloatArray(), 1e-5f);
        assertArrayEquals(expected.get(":, 1000:").toFloatArray(), halves.get(1).toFloatArray(), 1e-5f);
    }

    @Test
    void severalRowsAndSmallWeightsAreOneProduct() {
        NDArray big = manager.randomUniform(-0.05f, 0.05f, new Shape(2048, 2560));
        NDArray rows = manager.randomUniform(-1f, 1f, new Shape(3, 2048));
        assertArrayEquals(rows.matMul(big).toFloatArray(),
                splitter.product(rows, SplitWeight.halves(big)).toFloatArray(), 0f);

        NDArray small = manager.randomUniform(-0.05f, 0.05f, new Shape(64, 96));
        NDArray row = manager.randomUniform(-1f, 1f, new Shape(1, 64));
        assertArrayEquals(row.matMul(small).toFloatArray(),
                splitter.product(row, SplitWeight.halves(small)).toFloatArray(), 0f);
    }
}
