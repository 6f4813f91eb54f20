//! Generation + hashing for a large installation: 500 projects, each with a
//! PostgreSQL cluster, a Redis instance, a traditional service, a Knative
//! service and a notebook, on top of every battery. Prints how many
//! resources one run produces; the target is under 1 s per run.

use bi_model::catalog::{BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Owned, Secrets, generate};
use bi_model::image::ImageRef;
use bi_model::objects::{
    KnativeService, Notebook, PostgresCluster, Project, RedisInstance, TraditionalService,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// The large installation the benchmark generates.
pub fn large_state(projects: usize) -> DesiredState {
    let everything: Vec<BatteryKind> = BatteryKind::ALL
        .into_iter()
        .filter(|k| k.info().offered_on(ClusterProvider::Kind))
        .collect();
    let mut state = DesiredState::with_batteries(&everything).unwrap_or_default();
    state.provider = ClusterProvider::Kind;
    let image = ImageRef::parse("ghcr.io/example/web:1.0.0").unwrap_or_else(|e| panic!("{e}"));
    for i in 0..projects {
        let name = format!("project-{i}");
        let owned = |project: &str| Some(project.to_owned());
        state.projects.push(Project {
            name: name.clone(),
            ..Project::default()
        });
        state.postgres_clusters.push(Owned {
            project: owned(&name),
            object: PostgresCluster {
                name: format!("pg-{i}"),
                ..PostgresCluster::default()
            },
        });
        state.redis_instances.push(Owned {
            project: owned(&name),
            object: RedisInstance {
                name: format!("cache-{i}"),
                ..RedisInstance::default()
            },
        });
        state.traditional_services.push(Owned {
            project: owned(&name),
            object: TraditionalService::new(format!("web-{i}"), image.clone()),
        });
        state.knative_services.push(Owned {
            project: owned(&name),
            object: KnativeService::new(format!("fn-{i}"), image.clone()),
        });
        state.notebooks.push(Owned {
            project: owned(&name),
            object: Notebook {
                name: format!("nb-{i}"),
                ..Notebook::default()
            },
        });
    }
    state
}

fn bench(c: &mut Criterion) {
    let state = large_state(500);
    let resources = generate(&state, Secrets::Preview).unwrap_or_default();
    println!("one run generates and hashes {} resources", resources.len());
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.bench_function("500 projects", |b| {
        b.iter(|| generate(std::hint::black_box(&state), Secrets::Preview))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
