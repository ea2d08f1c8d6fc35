import time, torch, warnings
torch.set_num_threads(1)
warnings.simplefilter("ignore")
from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
t0 = time.time()
train = make_survey_pairs(600, "sdss", "des", "gri", seed=930017, target_grid="source", psf="realistic",
                          seeing_spread=0.2, processes=1, progress=False)
print("simulated", time.time() - t0, flush=True)
model = Survey2Survey("cyclegan", base_channels=32, n_blocks=4, disc_channels=32, batch_size=8, epochs=200, seed=0)
start = time.time()
def limit(translator, epoch, logs):
    print(f"epoch {epoch} {time.time()-start:.0f}s {logs}", flush=True)
    return time.time() - start > 55 * 60
model.fit(list(train.sources), list(train.targets), validation=0.05, progress=False, callbacks=[limit])
model.save("/work/proto/cyclegan.s2s", overwrite=True)
print("done", time.time() - t0, flush=True)
