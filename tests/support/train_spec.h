// A TrainSpec as the service builds one: hyperparameters validated against the model type's
// schema (defaults filled in), two threads, a fresh artifact folder per job.
#ifndef TSML_TESTS_SUPPORT_TRAIN_SPEC_H_
#define TSML_TESTS_SUPPORT_TRAIN_SPEC_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "train/hyperparams.h"
#include "train/trainer.h"

namespace tsml::test {

inline train::TrainSpec MakeTrainSpec(const std::string& job_id, const std::string& model_type,
                                      Json training_data,
                                      const std::vector<train::HyperparamSpec>& schema,
                                      const Json& hyperparameters, std::string strategy,
                                      const std::string& artifact_root, double memory_gb = 8) {
  common::ValidationErrors errors;
  train::TrainSpec spec;
  spec.job_id = job_id;
  spec.model_type = model_type;
  spec.training_data = std::move(training_data);
  spec.hyperparameters = train::ValidateHyperparameters(schema, hyperparameters, errors);
  EXPECT_TRUE(errors.empty()) << errors.ToStatus();
  spec.validation_strategy = std::move(strategy);
  spec.cpu = 2;
  spec.memory_gb = memory_gb;
  spec.artifact_dir = artifact_root + "/" + job_id;
  return spec;
}

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_TRAIN_SPEC_H_
