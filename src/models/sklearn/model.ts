/** The contract the model runtime consumes (see index.ts for the loader). */
export type Label = number | string | boolean;

export interface TabularModel {
  /** e.g. 'sklearn.ensemble._forest.RandomForestClassifier' or 'Pipeline(StandardScaler, LogisticRegression)' */
  readonly estimator: string;
  readonly task: 'classification' | 'regression' | 'transform';
  readonly nFeatures: number;
  /** regression targets / transform width (1 for classifiers) */
  readonly nOutputs: number;
  /** classifiers only, in sklearn's `classes_` order */
  readonly classes?: ReadonlyArray<Label>;
  /** `feature_names_in_` when the model was fitted on named columns */
  readonly featureNames?: ReadonlyArray<string>;
  /** rows: row-major nRows*nFeatures. Classifiers return labels; regressors nRows*nOutputs values. */
  predict(rows: Float64Array, nRows: number): Float64Array | Array<Label>;
  /** classifiers only: row-major nRows*nClasses */
  predictProba?(rows: Float64Array, nRows: number): Float64Array;
  /** transformers (and pipelines ending in one): row-major nRows*nOutputs */
  transform?(rows: Float64Array, nRows: number): Float64Array;
}
